// The BokehJS shims of app/browser_shims.py, which says what they do and why they are exact
// here. The page loads this file after BokehJS and before its document is built, so every
// drawing, the first included, goes through them. The address gives the BokehJS series they
// are written for (?bokeh=3.9.); with any other BokehJS the page is left as it is.
(function () {
  if (window.hessianLabShims !== undefined) return;
  window.hessianLabShims = [];
  const script = document.currentScript;
  const series = script ? new URL(script.src).searchParams.get("bokeh") : null;
  const bokeh = window.Bokeh;
  if (!series || !bokeh || typeof bokeh.require !== "function"
      || !String(bokeh.version).startsWith(series)) return;
  const visuals = bokeh.require("core/visuals/visual").VisualProperties;
  if (visuals && typeof visuals.prototype._get_css_value === "function") {
    // no stylesheet of the page sets a --bk-* variable of a visual
    visuals.prototype._get_css_value = function () { return ""; };
    window.hessianLabShims.push("visual-css-variables");
  }
  const sheet = bokeh.require("core/dom").InlineStyleSheet;
  if (sheet && typeof sheet.prototype._update === "function") {
    sheet.prototype._update = function (css) {
      if (this.el.textContent !== css) this.el.textContent = css;
    };
    window.hessianLabShims.push("unchanged-stylesheets");
  }
  const plots = bokeh.require("models/plots/plot_canvas").PlotView;
  const font = plots && Object.getOwnPropertyDescriptor(plots.prototype, "base_font_size");
  if (font && typeof font.get === "function") {
    // a plot's font size read from its computed style once per task, not for every text;
    // the task ends at the next microtask checkpoint
    const read = font.get;
    let task = 0;
    let ending = false;
    Object.defineProperty(plots.prototype, "base_font_size", {
      configurable: true,
      get() {
        if (this.hessianLabTask !== task) {
          this.hessianLabFontSize = read.call(this);
          this.hessianLabTask = task;
          if (!ending) {
            ending = true;
            queueMicrotask(() => { task++; ending = false; });
          }
        }
        return this.hessianLabFontSize;
      },
    });
    window.hessianLabShims.push("plot-font-size-per-task");
  }
})();
