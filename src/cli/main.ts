/**
 * The `aura-db` command line (README, "Command line"). This file is the list of commands: each one lives in
 * `src/cli/commands/<name>.ts` and registers itself on the program.
 */
import { registerAdd } from './commands/add.js'
import { registerBackup } from './commands/backup.js'
import { registerBackups } from './commands/backups.js'
import { registerCheck } from './commands/check.js'
import { registerDocs } from './commands/docs.js'
import { registerHub } from './commands/hub.js'
import { registerImport } from './commands/import.js'
import { registerInit } from './commands/init.js'
import { registerList } from './commands/list.js'
import { registerMigrate } from './commands/migrate.js'
import { registerRemove } from './commands/remove.js'
import { registerRestore } from './commands/restore.js'
import { registerRollback } from './commands/rollback.js'
import { registerScript } from './commands/script.js'
import { registerSeed } from './commands/seed.js'
import { registerStatus } from './commands/status.js'
import { registerStudio } from './commands/studio.js'
import { registerVerify } from './commands/verify.js'
import { createProgram, runProgram } from './program.js'

const program = createProgram()

registerMigrate(program)
registerRollback(program)
registerStatus(program)
registerList(program)
registerAdd(program)
registerRemove(program)
registerScript(program)
registerVerify(program)
registerCheck(program)
registerSeed(program)
registerInit(program)
registerImport(program)
registerBackup(program)
registerBackups(program)
registerRestore(program)
registerDocs(program)
registerStudio(program)
registerHub(program)

await runProgram(program, process.argv)
