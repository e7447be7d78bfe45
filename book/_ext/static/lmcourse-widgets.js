// Loaded before the ipywidgets embedder (book/_ext/lmcourse_book.py puts it first).
(function () {
  // 1. Offline mode: html-manager is served from _static/, and the script tag carries
  //    data-assets="<its folder, relative to this file>". embed-amd.js finds its fonts relative
  //    to the AMD module "@jupyter-widgets/html-manager/dist/libembed-amd", so tell RequireJS
  //    (through the global config object it reads when it loads) where that module lives.
  var script = document.currentScript;
  if (script && script.dataset.assets) {
    var assets = new URL(script.dataset.assets, script.src).href;
    window.__jupyter_widgets_assets_path__ = assets;
    if (typeof window.require === "undefined") {
      window.require = { paths: { "@jupyter-widgets/html-manager/dist": assets.replace(/\/$/, "") } };
    }
  }
  // 2. @jupyter-widgets/base typesets labels with MathJax 2's MathJax.Hub.Queue, but Sphinx
  //    loads MathJax 3. Give it a Hub that forwards to MathJax 3's typesetPromise.
  var hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        var job = arguments[i];
        if (Array.isArray(job) && job[0] === "Typeset" && window.MathJax.typesetPromise) {
          window.MathJax.typesetPromise(job[2] ? [job[2]] : undefined);
        }
      }
    },
  };
  var config = (window.MathJax = window.MathJax || {});
  config.Hub = config.Hub || hub; // used before MathJax 3 has started
  var startup = (config.startup = config.startup || {});
  var ready = startup.ready;
  startup.ready = function () {
    if (ready) ready(); else window.MathJax.startup.defaultReady();
    window.MathJax.Hub = window.MathJax.Hub || hub; // MathJax 3 replaced the config object
  };
})();
