import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../src/index.js'
import { libraryDialects as dialects } from './dialects.js'
import { useMigratedDatabase } from './helpers.js'

for (const d of dialects) {
  describe.skipIf(!d.available)(`${d.label}: audit`, () => {
    const ctx = useMigratedDatabase(d, { actor: 'default-actor' })

    it('fills created_by / modified_by / deleted_by from the actor of each unit', async () => {
      const { db } = ctx
      const p = await db.transaction((uow) => uow.projectStates.add({ title: 'Audited' }), { actor: 'alice' })
      expect(p.createdBy).toBe('alice')
      expect(p.modifiedBy).toBe('alice')
      const u = await db.transaction((uow) => uow.projectStates.update({ ...p, title: 'Edited' }), {
        actor: 'bob',
      })
      expect(u.createdBy).toBe('alice')
      expect(u.modifiedBy).toBe('bob')
      await db.transaction((uow) => uow.projectStates.delete(u), { actor: 'carol' })
      const deleted = await db.projectStates.getById(p.id, { includeDeleted: true })
      expect(deleted?.isDeleted).toBe(true)
      expect(deleted?.deletedBy).toBe('carol')
      expect(deleted?.modifiedBy).toBe('carol')
      expect(deleted?.deletedAt).toBeInstanceOf(Date)
      const actors = (await db.auditEntries.history('project_states', p.id)).map((e) => [e.action, e.actor])
      expect(actors).toEqual([
        ['insert', 'alice'],
        ['update', 'bob'],
        ['soft_delete', 'carol'],
      ])
    })

    it('uses the database default actor on db-level calls, and null when there is none', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Default actor' })
      expect(p.createdBy).toBe('default-actor')
      const anonymous = await openDatabase({ url: ctx.target.url })
      try {
        const q = await anonymous.projectStates.add({ title: 'Nobody' })
        expect(q.createdBy).toBeNull()
        expect((await anonymous.auditEntries.history('project_states', q.id))[0]?.actor).toBeNull()
      } finally {
        await anonymous.close()
      }
    })

    it('ignores forged audit, version and soft-delete fields', async () => {
      const { db } = ctx
      const forged = new Date('2001-01-01T00:00:00.000Z')
      const before = Date.now()
      const p = await db.projectStates.add({
        title: 'Forgery',
        createdAt: forged,
        updatedAt: forged,
        createdBy: 'mallory',
        rowVersion: 42,
        isDeleted: true,
      } as never)
      expect(p.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000)
      expect(p.createdBy).toBe('default-actor')
      expect(p.rowVersion).toBe(1)
      expect(p.isDeleted).toBe(false)
      const u = await db.projectStates.update({
        ...p,
        title: 'Forgery 2',
        createdAt: forged,
        modifiedBy: 'mallory',
      } as never)
      expect(u.createdAt.getTime()).toBe(p.createdAt.getTime())
      expect(u.modifiedBy).toBe('default-actor')
      const stored = await db.projectStates.getById(p.id)
      expect(stored?.createdAt.getTime()).toBe(p.createdAt.getTime())
    })

    it('writes one audit entry per update listing exactly the changed fields with old and new values', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Before', description: 'same', progressPercent: 10 })
      await db.projectStates.update({
        ...p,
        title: 'After',
        description: 'same',
        progressPercent: 55,
        jobId: null,
      })
      const history = await db.auditEntries.history('project_states', p.id)
      expect(history.map((e) => e.action)).toEqual(['insert', 'update'])
      const update = history[1]!
      expect(JSON.parse(update.changesJson!)).toEqual({
        title: ['Before', 'After'],
        progressPercent: [10, 55],
      })
      expect(update.tableName).toBe('project_states')
      expect(update.rowId).toBe(p.id)
    })

    it('records dates in audit changes as ISO text and restores/purges as their own actions', async () => {
      const { db } = ctx
      const p = await db.projectStates.add({ title: 'Dates' })
      const done = new Date('2026-02-03T04:05:06.789Z')
      await db.projectStates.update({ ...p, completedAt: done })
      const [, update] = await db.auditEntries.history('project_states', p.id)
      expect(JSON.parse(update!.changesJson!)).toEqual({ completedAt: [null, '2026-02-03T04:05:06.789Z'] })
      const current = await db.projectStates.getById(p.id)
      await db.projectStates.delete(current!)
      await db.projectStates.restore(p.id)
      expect((await db.auditEntries.history('project_states', p.id)).map((e) => e.action)).toEqual([
        'insert',
        'update',
        'soft_delete',
        'restore',
      ])
    })

    it('redacts sensitive configuration values in the audit trail; other values are recorded as they are', async () => {
      const db = await openDatabase({ url: ctx.target.url, secretKey: randomBytes(32) })
      try {
        const plain = await db.configurations.set('General.Theme', 'dark', { category: 'General' })
        await db.configurations.set('General.Theme', 'light')
        const plainHistory = await db.auditEntries.history('configurations', plain.key)
        expect(JSON.parse(plainHistory[1]!.changesJson!)).toEqual({ value: ['dark', 'light'] })

        const secret = await db.configurations.set('Api.Token', 'token-one', {
          category: 'Api',
          isSensitive: true,
        })
        await db.configurations.set('Api.Token', 'token-two')
        expect(await db.configurations.getValue('Api.Token')).toBe('token-two')
        const history = await db.auditEntries.history('configurations', secret.key)
        expect(history.map((e) => e.action)).toEqual(['insert', 'update'])
        expect(JSON.parse(history[1]!.changesJson!)).toEqual({ value: ['[redacted]', '[redacted]'] })
        expect(history.map((e) => e.changesJson ?? '').join()).not.toContain('token-')
      } finally {
        await db.close()
      }
    })
  })
}
