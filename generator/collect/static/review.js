// The review page: "select every drawing on this page", and how many are selected. Without this
// script the check boxes and both bulk buttons still work; it only saves clicks.
"use strict";

(function () {
  const all = document.getElementById("pick-all");
  const boxes = Array.from(document.querySelectorAll('input[type=checkbox][form="bulk"]'));
  const shown = document.getElementById("picked");
  const buttons = document.querySelectorAll("#bulk button");

  function update() {
    const picked = boxes.filter((box) => box.checked).length;
    shown.textContent = picked ? picked + " selected" : "";
    for (const button of buttons) { button.disabled = picked === 0; }
    all.checked = picked > 0 && picked === boxes.length;
  }
  all.addEventListener("change", () => {
    for (const box of boxes) { box.checked = all.checked; }
    update();
  });
  for (const box of boxes) { box.addEventListener("change", update); }
  update();
})();
