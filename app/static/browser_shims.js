// The BokehJS shims of app/page/browser_shims.py, which says what they do and why they are exact
// here. The page loads this file after BokehJS and before its document is built, so every
// drawing, the first included, goes through them. The address gives the BokehJS series they
// are written for (?bokeh=3.9.); with any other BokehJS the page is left as it is. Each shim
// is installed on its own: one that fails puts back what it replaced, and the others apply.
// window.hessianLabShims lists those applied, window.hessianLabShimsFailed those that failed.
(function () {
  "use strict";
  if (window.hessianLabShims !== undefined) return;
  window.hessianLabShims = [];
  window.hessianLabShimsFailed = [];
  const script = document.currentScript;
  const series = script ? new URL(script.src).searchParams.get("bokeh") : null;
  const bokeh = window.Bokeh;
  if (!series || !bokeh || typeof bokeh.require !== "function"
      || !String(bokeh.version).startsWith(series)) return;

  // Installs one shim: install() replaces what it needs and returns a function that puts all
  // of it back; if it throws, what it replaced so far is put back by the restores it pushed.
  function shim(name, install) {
    const restores = [];
    try {
      install(restores);
      window.hessianLabShims.push(name);
    } catch (error) {
      for (const restore of restores.reverse()) {
        try { restore(); } catch (ignored) { /* nothing more to put back */ }
      }
      window.hessianLabShimsFailed.push(name);
      console.warn(`hessian-lab: BokehJS shim ${name} not applied:`, error);
    }
  }

  // Replaces prototype[key] (a method) by make(original), pushing its restore first.
  function replaceMethod(restores, prototype, key, make) {
    const original = prototype[key];
    if (typeof original !== "function") throw new Error(`no ${key} to replace`);
    restores.push(() => { prototype[key] = original; });
    const replacement = make(original);
    prototype[key] = replacement;
    if (prototype[key] !== replacement) throw new Error(`${key} cannot be replaced`);
  }

  // Whether a stylesheet the document has now defines a --bk- variable (those a script may
  // not read, from another origin, are not seen).
  function pageDefinesBokehVariables() {
    const sheets = [...document.styleSheets, ...(document.adoptedStyleSheets || [])];
    for (const sheet of sheets) {
      let rules;
      try { rules = sheet.cssRules; } catch (unreadable) { continue; }
      for (const rule of rules || []) {
        if (rule.cssText.includes("--bk-")) return true;
      }
    }
    return false;
  }

  shim("visual-css-variables", (restores) => {
    // "none set" while no stylesheet of the page defines a --bk- variable: checked now, and in
    // every stylesheet BokehJS writes later; after the first one, BokehJS's own lookup always
    const visuals = bokeh.require("core/visuals/visual").VisualProperties;
    const sheets = bokeh.require("core/dom").InlineStyleSheet;
    let defined = pageDefinesBokehVariables();
    replaceMethod(restores, sheets.prototype, "_update", (original) => function (css) {
      if (!defined && typeof css === "string" && css.includes("--bk-")) defined = true;
      return original.call(this, css);
    });
    replaceMethod(restores, visuals.prototype, "_get_css_value", (original) => function (name) {
      return defined ? original.call(this, name) : "";
    });
  });

  shim("unchanged-stylesheets", (restores) => {
    // a stylesheet's text written only when it differs
    const sheets = bokeh.require("core/dom").InlineStyleSheet;
    replaceMethod(restores, sheets.prototype, "_update", (original) => function (css) {
      if (this.el.textContent !== css) original.call(this, css);
    });
  });

  shim("plot-font-size-per-task", (restores) => {
    // a plot's font size read from its computed style once per task, not for every text;
    // the task ends at the next microtask checkpoint
    const prototype = bokeh.require("models/plots/plot_canvas").PlotView.prototype;
    const font = Object.getOwnPropertyDescriptor(prototype, "base_font_size");
    if (!font || typeof font.get !== "function" || !font.configurable) {
      throw new Error("no base_font_size getter to replace");
    }
    const read = font.get;
    let task = 0;
    let ending = false;
    restores.push(() => { Object.defineProperty(prototype, "base_font_size", font); });
    Object.defineProperty(prototype, "base_font_size", {
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
  });
})();
