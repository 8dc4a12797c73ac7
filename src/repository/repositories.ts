import { assetStatesTable } from '../schema/asset-states.js'
import { systemConfigurationTable } from '../schema/system-configuration.js'
import { userSetupsTable } from '../schema/user-setups.js'
import { ActionLogsRepository, type ActionApplier } from './action-logs-repository.js'
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
  /** The undo/redo appliers registered on the database, by action type (shared by its units). */
  readonly appliers: Map<string, ActionApplier>
}

/** The names of the {@link Repositories}. */
export const REPOSITORY_NAMES = [
  'projectStates',
  'sceneStates',
  'assetStates',
  'renderCheckpoints',
  'projectVersions',
  'contentBlobs',
  'configurations',
  'templates',
  'customTemplates',
  'exportHistory',
  'userSetups',
  'systemConfiguration',
  'actionLogs',
  'auditEntries',
] as const satisfies readonly (keyof Repositories)[]

/**
 * The repositories over one session, each built on first use. A unit of work has its own
 * session, so its own repositories, and most units use two or three of the fourteen: building
 * all of them cost a unit about as much as one of its statements.
 */
export class LazyRepositories implements Repositories {
  #projectStates?: ProjectStatesRepository
  #sceneStates?: SceneStatesRepository
  #assetStates?: Repository<typeof assetStatesTable>
  #renderCheckpoints?: RenderCheckpointsRepository
  #projectVersions?: ProjectVersionsRepository
  #contentBlobs?: ContentBlobsRepository
  #configurations?: ConfigurationsRepository
  #templates?: TemplatesRepository
  #customTemplates?: CustomTemplatesRepository
  #exportHistory?: ExportHistoryRepository
  #userSetups?: Repository<typeof userSetupsTable>
  #systemConfiguration?: Repository<typeof systemConfigurationTable>
  #actionLogs?: ActionLogsRepository
  #auditEntries?: AuditEntriesRepository

  constructor(
    private readonly session: Session,
    private readonly options: RepositoryOptions,
  ) {}

  get projectStates(): ProjectStatesRepository {
    return (this.#projectStates ??= new ProjectStatesRepository(this.session, {
      scenes: this.sceneStates,
      assets: this.assetStates,
      checkpoints: this.renderCheckpoints,
    }))
  }
  get sceneStates(): SceneStatesRepository {
    return (this.#sceneStates ??= new SceneStatesRepository(this.session))
  }
  get assetStates(): Repository<typeof assetStatesTable> {
    return (this.#assetStates ??= new Repository(assetStatesTable, this.session))
  }
  get renderCheckpoints(): RenderCheckpointsRepository {
    return (this.#renderCheckpoints ??= new RenderCheckpointsRepository(this.session))
  }
  get projectVersions(): ProjectVersionsRepository {
    return (this.#projectVersions ??= new ProjectVersionsRepository(this.session, {
      blobs: this.contentBlobs,
      scenes: this.sceneStates,
      projects: this.projectStates,
    }))
  }
  get contentBlobs(): ContentBlobsRepository {
    return (this.#contentBlobs ??= new ContentBlobsRepository(this.session))
  }
  get configurations(): ConfigurationsRepository {
    return (this.#configurations ??= new ConfigurationsRepository(this.session, this.options.cipher))
  }
  get templates(): TemplatesRepository {
    return (this.#templates ??= new TemplatesRepository(this.session))
  }
  get customTemplates(): CustomTemplatesRepository {
    return (this.#customTemplates ??= new CustomTemplatesRepository(this.session))
  }
  get exportHistory(): ExportHistoryRepository {
    return (this.#exportHistory ??= new ExportHistoryRepository(this.session))
  }
  get userSetups(): Repository<typeof userSetupsTable> {
    return (this.#userSetups ??= new Repository(userSetupsTable, this.session))
  }
  get systemConfiguration(): Repository<typeof systemConfigurationTable> {
    return (this.#systemConfiguration ??= new Repository(systemConfigurationTable, this.session))
  }
  get actionLogs(): ActionLogsRepository {
    return (this.#actionLogs ??= new ActionLogsRepository(this.session, {
      projects: this.projectStates,
      scenes: this.sceneStates,
      appliers: this.options.appliers,
    }))
  }
  get auditEntries(): AuditEntriesRepository {
    return (this.#auditEntries ??= new AuditEntriesRepository(this.session))
  }
}

/** Builds all the repositories over one session, as a plain object (the database's). */
export function createRepositories(session: Session, options: RepositoryOptions): Repositories {
  const lazy = new LazyRepositories(session, options)
  return Object.fromEntries(REPOSITORY_NAMES.map((name) => [name, lazy[name]])) as unknown as Repositories
}
