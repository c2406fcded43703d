// Small enhancements only: every page works without this script.
(function () {
  "use strict";

  // Ask before destructive actions (forms carrying data-confirm).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Commune picker: reload the commune list when the province changes.
  document.querySelectorAll("select[data-ward-picker]").forEach(function (province) {
    var ward = document.getElementById(province.getAttribute("data-ward-picker"));
    var url = province.getAttribute("data-wards-url");
    if (!ward || !url) return;
    province.addEventListener("change", function () {
      fetch(url + "?province=" + encodeURIComponent(province.value), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (wards) {
          var first = ward.options[0];
          ward.innerHTML = "";
          if (first && first.value === "") ward.appendChild(first);
          wards.forEach(function (w) {
            var option = document.createElement("option");
            option.value = w.code;
            option.textContent = w.name;
            ward.appendChild(option);
          });
        });
    });
  });
})();
