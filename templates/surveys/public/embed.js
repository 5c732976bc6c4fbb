(function () {
  var script = document.currentScript, frame = document.createElement("iframe");
  frame.src = "{{ url|escapejs }}";
  frame.title = "Survey";
  frame.loading = "lazy";
  frame.style.cssText = "width:100%;max-width:640px;height:620px;border:0";
  script.parentNode.insertBefore(frame, script);
})();
