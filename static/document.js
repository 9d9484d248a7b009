// Scroll the first cited line into view (the #L anchor alone would sit under the sticky header).
document.addEventListener("DOMContentLoaded", () => {
  const cited = document.getElementById("cited");
  const first = cited && document.getElementById("L" + cited.dataset.first);
  if (first && !location.hash) first.scrollIntoView({ block: "center" });
});
