import { actionLogsTable } from '../schema/action-logs.js'
import { assetStatesTable } from '../schema/asset-states.js'
import { contentBlobsTable } from '../schema/content-blobs.js'
import { customTemplatesTable } from '../schema/custom-templates.js'
import { exportHistoryTable } from '../schema/export-history.js'
import { projectVersionsTable } from '../schema/project-versions.js'
import { sceneStatesTable } from '../schema/scene-states.js'
import { systemConfigurationTable } from '../schema/system-configuration.js'
import { templatesTable } from '../schema/templates.js'
import { userSetupsTable } from '../schema/user-setups.js'
import { AuditEntriesRepository } from './audit-entries-repository.js'
import { ConfigurationsRepository, type ValueCipher } from './configurations-repository.js'
import { ProjectStatesRepository } from './project-states-repository.js'
import { RenderCheckpointsRepository } from './render-checkpoints-repository.js'
import { Repository, SoftDeleteRepository } from './repository.js'
import type { Session } from './session.js'

/** The 14 repositories, the same on the database and on a unit of work. */
export interface Repositories {
  readonly projectStates: ProjectStatesRepository
  readonly sceneStates: Repository<typeof sceneStatesTable>
  readonly assetStates: Repository<typeof assetStatesTable>
  readonly renderCheckpoints: RenderCheckpointsRepository
  readonly projectVersions: SoftDeleteRepository<typeof projectVersionsTable>
  readonly contentBlobs: Repository<typeof contentBlobsTable>
  readonly configurations: ConfigurationsRepository
  readonly templates: Repository<typeof templatesTable>
  readonly customTemplates: SoftDeleteRepository<typeof customTemplatesTable>
  readonly exportHistory: Repository<typeof exportHistoryTable>
  readonly userSetups: Repository<typeof userSetupsTable>
  readonly systemConfiguration: Repository<typeof systemConfigurationTable>
  readonly actionLogs: Repository<typeof actionLogsTable>
  readonly auditEntries: AuditEntriesRepository
}

/** What repositories need besides the session. */
export interface RepositoryOptions {
  readonly cipher: ValueCipher | null
}

/** Builds the repositories over one session (the database's, or a unit of work's). */
export function createRepositories(session: Session, options: RepositoryOptions): Repositories {
  const sceneStates = new Repository(sceneStatesTable, session)
  const assetStates = new Repository(assetStatesTable, session)
  const renderCheckpoints = new RenderCheckpointsRepository(session)
  return {
    projectStates: new ProjectStatesRepository(session, {
      scenes: sceneStates,
      assets: assetStates,
      checkpoints: renderCheckpoints,
    }),
    sceneStates,
    assetStates,
    renderCheckpoints,
    projectVersions: new SoftDeleteRepository(projectVersionsTable, session),
    contentBlobs: new Repository(contentBlobsTable, session),
    configurations: new ConfigurationsRepository(session, options.cipher),
    templates: new Repository(templatesTable, session),
    customTemplates: new SoftDeleteRepository(customTemplatesTable, session),
    exportHistory: new Repository(exportHistoryTable, session),
    userSetups: new Repository(userSetupsTable, session),
    systemConfiguration: new Repository(systemConfigurationTable, session),
    actionLogs: new Repository(actionLogsTable, session),
    auditEntries: new AuditEntriesRepository(session),
  }
}
