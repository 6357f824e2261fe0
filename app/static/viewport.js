// hessian-lab: the page's viewport (app/page/viewport.py). Without <meta name="viewport"> a
// phone lays the page out 980 px wide and zooms it down: the narrow layouts never apply and
// the text is a few pixels tall. Run while the head is read, before anything is laid out.
(function () {
  if (document.querySelector('meta[name="viewport"]')) return;
  const meta = document.createElement("meta");
  meta.name = "viewport";
  meta.content = "width=device-width, initial-scale=1";
  document.head.appendChild(meta);
})();
