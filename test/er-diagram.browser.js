// Runs in Chromium next to mermaid.min.js (test/er-diagram.test.ts adds both to a blank page).

/** Whether (x, y) lies inside `box`, `margin` pixels in from its edges (out, when negative). */
function inside(box, x, y, margin) {
  return x > box.left + margin && x < box.right - margin && y > box.top + margin && y < box.bottom - margin
}

/**
 * Draws each Mermaid source and reports its natural size (the SVG's viewBox), how many tables it
 * drew, and the relationship lines that pass through the box of a table they do not join.
 */
window.measureErDiagrams = async function measureErDiagrams(sources) {
  window.mermaid.initialize({ startOnLoad: false })
  const results = []
  for (const [i, source] of sources.entries()) {
    const { svg } = await window.mermaid.render(`diagram${i}`, source)
    const holder = document.createElement('div')
    holder.innerHTML = svg
    document.body.replaceChildren(holder)
    const root = holder.querySelector('svg')
    const [, , width, height] = root.getAttribute('viewBox').split(' ').map(Number)
    const boxes = [...root.querySelectorAll('g.node')].map((node) => ({
      name: node.id,
      box: node.getBoundingClientRect(),
    }))
    const crossings = []
    for (const path of root.querySelectorAll('path.relationshipLine')) {
      const matrix = path.getScreenCTM()
      const length = path.getTotalLength()
      const at = (d) => path.getPointAtLength(d).matrixTransform(matrix)
      const ends = [at(0), at(length)]
      // The tables a line joins are those its ends touch.
      const joined = boxes.filter(({ box }) => ends.some((p) => inside(box, p.x, p.y, -4)))
      for (let d = 0; d <= length; d += 4) {
        const p = at(d)
        const hit = boxes.find(({ box }) => !joined.some((j) => j.box === box) && inside(box, p.x, p.y, 1))
        if (hit) {
          crossings.push(`${path.id} crosses ${hit.name}`)
          break
        }
      }
    }
    results.push({ width, height, entities: boxes.length, crossings })
  }
  return results
}
