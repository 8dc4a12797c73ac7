import { assetStatesTable } from '../schema/asset-states.js'
import { systemConfigurationTable } from '../schema/system-configuration.js'
import { userSetupsTable } from '../schema/user-setups.js'
import { ActionLogsRepository } from './action-logs-repository.js'
import { AuditEntriesRepository } from './audit-entries-repository.js'
import { ConfigurationsRepository, type ValueCipher } from './configurations-repository.js'
import { ContentBlobsRepository } from './content-blobs-repository.js'
import { ExportHistoryRepository } from './export-history-repository.js'
import { ProjectStatesRepository } from './project-states-repository.js'
import { ProjectVersionsRepository } from './project-versions-repository.js'
import { RenderCheckpointsRepository } from './render-checkpoints-repository.js'
import { Repository } from './repository.js'
import { SceneStatesRepository } from './scene-states-repository.js'
import type { Session } from './session.js'
import { CustomTemplatesRepository, TemplatesRepository } from './templates-repository.js'

/** The 14 repositories, the same on the database and on a unit of work. */
export interface Repositories {
  readonly projectStates: ProjectStatesRepository
  readonly sceneStates: SceneStatesRepository
  readonly assetStates: Repository<typeof assetStatesTable>
  readonly renderCheckpoints: RenderCheckpointsRepository
  readonly projectVersions: ProjectVersionsRepository
  readonly contentBlobs: ContentBlobsRepository
  readonly configurations: ConfigurationsRepository
  readonly templates: TemplatesRepository
  readonly customTemplates: CustomTemplatesRepository
  readonly exportHistory: ExportHistoryRepository
  readonly userSetups: Repository<typeof userSetupsTable>
  readonly systemConfiguration: Repository<typeof systemConfigurationTable>
  readonly actionLogs: ActionLogsRepository
  readonly auditEntries: AuditEntriesRepository
}

/** What repositories need besides the session. */
export interface RepositoryOptions {
  readonly cipher: ValueCipher | null
}

/** Builds the repositories over one session (the database's, or a unit of work's). */
export function createRepositories(session: Session, options: RepositoryOptions): Repositories {
  const sceneStates = new SceneStatesRepository(session)
  const assetStates = new Repository(assetStatesTable, session)
  const renderCheckpoints = new RenderCheckpointsRepository(session)
  const projectStates = new ProjectStatesRepository(session, {
    scenes: sceneStates,
    assets: assetStates,
    checkpoints: renderCheckpoints,
  })
  const contentBlobs = new ContentBlobsRepository(session)
  return {
    projectStates,
    sceneStates,
    assetStates,
    renderCheckpoints,
    projectVersions: new ProjectVersionsRepository(session, {
      blobs: contentBlobs,
      scenes: sceneStates,
      projects: projectStates,
    }),
    contentBlobs,
    configurations: new ConfigurationsRepository(session, options.cipher),
    templates: new TemplatesRepository(session),
    customTemplates: new CustomTemplatesRepository(session),
    exportHistory: new ExportHistoryRepository(session),
    userSetups: new Repository(userSetupsTable, session),
    systemConfiguration: new Repository(systemConfigurationTable, session),
    actionLogs: new ActionLogsRepository(session, { projects: projectStates, scenes: sceneStates }),
    auditEntries: new AuditEntriesRepository(session),
  }
}
