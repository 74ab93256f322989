// Progressive enhancement only: the job page updates itself while work runs.
// Everything works without this file (the page has a "Refresh" link).
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("job");
  if (!box) { return; }
  var url = box.getAttribute("data-job");
  function poll() {
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (job) {
      var summary = document.getElementById("job-summary");
      if (summary.textContent !== job.summary) { summary.textContent = job.summary; }
      job.steps.forEach(function (step, index) {
        var row = box.querySelector('tr[data-step="' + index + '"]');
        if (!row) { return; }
        var state = row.querySelector(".step-state");
        state.textContent = step.state_label;
        state.className = "step-state state-" + step.state;
        row.querySelector(".step-detail").textContent = step.detail;
      });
      if (!job.finished) { setTimeout(poll, 1000); }
    }).catch(function () { setTimeout(poll, 3000); });
  }
  poll();
});
