// Aura Studio's only script (served from the package; the Content-Security-Policy allows no
// other): confirmation of write forms and the progress bar of a running backup.

document.addEventListener('submit', (event) => {
  const form = event.target
  if (!(form instanceof HTMLFormElement)) return
  const question = form.dataset.confirm
  if (question && !window.confirm(question)) event.preventDefault()
})

/** Polls the backup's state while it runs; reloads the page when it ends, to list the new file. */
function watchBackup() {
  const box = document.getElementById('backup-progress')
  if (!box || box.dataset.state !== 'running') return
  const bar = box.querySelector('progress')
  const status = box.querySelector('.backup-status')
  const poll = async () => {
    const response = await fetch('/api/backup', { credentials: 'same-origin' })
    const job = await response.json()
    if (job.state !== 'running') {
      window.location.reload()
      return
    }
    bar.max = job.total || 1
    bar.value = job.done
    status.textContent = `${job.phase} ${job.done}/${job.total || '?'}`
    window.setTimeout(poll, 250)
  }
  poll()
}

document.addEventListener('DOMContentLoaded', watchBackup)
