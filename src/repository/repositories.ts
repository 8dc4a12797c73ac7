import type { ValueCipher } from '../domain/secrets.js'
import { UsageError } from '../errors.js'
import { actionLogsTable } from '../schema/action-logs.js'
import {
  assetStatesTable,
  type AssetState,
  type AssetStateUpdate,
  type AssetStatesTable,
  type NewAssetState,
} from '../schema/asset-states.js'
import { auditEntriesTable } from '../schema/audit-entries.js'
import { configurationsTable } from '../schema/configurations.js'
import { contentBlobsTable } from '../schema/content-blobs.js'
import { customTemplatesTable } from '../schema/custom-templates.js'
import type { ColsOf, TableDef } from '../schema/define.js'
import { exportHistoryTable } from '../schema/export-history.js'
import { projectStatesTable } from '../schema/project-states.js'
import { projectVersionsTable } from '../schema/project-versions.js'
import { renderCheckpointsTable } from '../schema/render-checkpoints.js'
import { sceneStatesTable } from '../schema/scene-states.js'
import {
  systemConfigurationTable,
  type NewSystemConfiguration,
  type SystemConfiguration,
  type SystemConfigurationTable,
  type SystemConfigurationUpdate,
} from '../schema/system-configuration.js'
import { templatesTable } from '../schema/templates.js'
import {
  userSetupsTable,
  type NewUserSetup,
  type UserSetup,
  type UserSetupUpdate,
  type UserSetupsTable,
} from '../schema/user-setups.js'
import { ActionLogsRepository, type ActionApplier } from './action-logs-repository.js'
import { AuditEntriesRepository } from './audit-entries-repository.js'
import { ConfigurationsRepository } from './configurations-repository.js'
import { ContentBlobsRepository } from './content-blobs-repository.js'
import { ExportHistoryRepository } from './export-history-repository.js'
import { ProjectStatesRepository } from './project-states-repository.js'
import { ProjectVersionsRepository } from './project-versions-repository.js'
import { RenderCheckpointsRepository } from './render-checkpoints-repository.js'
import { Repository } from './repository.js'
import { SoftDeleteRepository } from './soft-delete-repository.js'
import { SceneStatesRepository } from './scene-states-repository.js'
import type { Session } from './session.js'
import { CustomTemplatesRepository, TemplatesRepository } from './templates-repository.js'

/** The repository of `asset_states`: the generic one, typed with the table's entity types. */
export type AssetStatesRepository = Repository<AssetStatesTable, AssetState, NewAssetState, AssetStateUpdate>
/** The repository of `user_setups`: the generic one, typed with the table's entity types. */
export type UserSetupsRepository = Repository<UserSetupsTable, UserSetup, NewUserSetup, UserSetupUpdate>
/** The repository of `system_configuration`: the generic one, typed with the table's entity types. */
export type SystemConfigurationRepository = Repository<
  SystemConfigurationTable,
  SystemConfiguration,
  NewSystemConfiguration,
  SystemConfigurationUpdate
>

/** The 14 repositories, the same on the database and on a unit of work. */
export interface Repositories {
  readonly projectStates: ProjectStatesRepository
  readonly sceneStates: SceneStatesRepository
  readonly assetStates: AssetStatesRepository
  readonly renderCheckpoints: RenderCheckpointsRepository
  readonly projectVersions: ProjectVersionsRepository
  readonly contentBlobs: ContentBlobsRepository
  readonly configurations: ConfigurationsRepository
  readonly templates: TemplatesRepository
  readonly customTemplates: CustomTemplatesRepository
  readonly exportHistory: ExportHistoryRepository
  readonly userSetups: UserSetupsRepository
  readonly systemConfiguration: SystemConfigurationRepository
  readonly actionLogs: ActionLogsRepository
  readonly auditEntries: AuditEntriesRepository
}

/** What repositories need besides the session. */
export interface RepositoryOptions {
  readonly cipher: ValueCipher | null
  /** The undo/redo appliers registered on the database, by action type (shared by its units). */
  readonly appliers: Map<string, ActionApplier>
  /**
   * The definitions the application registered (`openDatabase({ tables })`), by table name:
   * extensions of built-in tables, which their repositories use instead of the built-in
   * definitions, and the application's own tables, served by {@link LazyRepositories.table}.
   */
  readonly tables: ReadonlyMap<string, TableDef>
  /**
   * The tables whose rows belong to a project (`projectOwnershipOf`), the application's included:
   * their rows, and their audit history, go with a purged project. Worked out once per database.
   */
  readonly projectChildren: readonly TableDef[]
}

/** The repository `table(def)` returns: with `restore` and `purge` when the table has soft delete. */
export type TableRepository<T extends TableDef> = 'isDeleted' extends keyof ColsOf<T>
  ? SoftDeleteRepository<T>
  : Repository<T>

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

/** The repository name of each built-in table. */
const BUILT_IN: ReadonlyMap<string, keyof Repositories> = new Map([
  [projectStatesTable.name, 'projectStates'],
  [sceneStatesTable.name, 'sceneStates'],
  [assetStatesTable.name, 'assetStates'],
  [renderCheckpointsTable.name, 'renderCheckpoints'],
  [projectVersionsTable.name, 'projectVersions'],
  [contentBlobsTable.name, 'contentBlobs'],
  [configurationsTable.name, 'configurations'],
  [templatesTable.name, 'templates'],
  [customTemplatesTable.name, 'customTemplates'],
  [exportHistoryTable.name, 'exportHistory'],
  [userSetupsTable.name, 'userSetups'],
  [systemConfigurationTable.name, 'systemConfiguration'],
  [actionLogsTable.name, 'actionLogs'],
  [auditEntriesTable.name, 'auditEntries'],
])

/** The name of a built-in table's repository (`project_states` → `projectStates`), or undefined for any other table. */
export function builtInRepositoryName(table: string): keyof Repositories | undefined {
  return BUILT_IN.get(table)
}

/**
 * The repositories over one session, each built on first use. A unit of work has its own
 * session, so its own repositories, and most units use two or three of the fourteen: building
 * all of them cost a unit about as much as one of its statements.
 */
export class LazyRepositories implements Repositories {
  #projectStates?: ProjectStatesRepository
  #sceneStates?: SceneStatesRepository
  #assetStates?: AssetStatesRepository
  #renderCheckpoints?: RenderCheckpointsRepository
  #projectVersions?: ProjectVersionsRepository
  #contentBlobs?: ContentBlobsRepository
  #configurations?: ConfigurationsRepository
  #templates?: TemplatesRepository
  #customTemplates?: CustomTemplatesRepository
  #exportHistory?: ExportHistoryRepository
  #userSetups?: UserSetupsRepository
  #systemConfiguration?: SystemConfigurationRepository
  #actionLogs?: ActionLogsRepository
  #auditEntries?: AuditEntriesRepository
  readonly #tables = new Map<TableDef, Repository<TableDef>>()

  constructor(
    private readonly session: Session,
    private readonly options: RepositoryOptions,
  ) {}

  /**
   * The definition of a built-in table this database uses: the application's registered
   * extension, else the built-in one. (The cast states what the application declared in
   * `AuraTableExtensions`; `openDatabase` checked that the registered one extends the built-in.)
   */
  #definition<T extends TableDef, R extends TableDef>(builtIn: T): R {
    return (this.options.tables.get(builtIn.name) ?? builtIn) as TableDef as R
  }

  /**
   * The generic repository of a table the application defined and registered with
   * `openDatabase({ tables })`; one per table and session.
   */
  table<T extends TableDef>(definition: T): TableRepository<T> {
    if (this.options.tables.get(definition.name) !== definition || BUILT_IN.has(definition.name)) {
      throw new UsageError(
        BUILT_IN.has(definition.name)
          ? `${definition.name} is a built-in table: use its own repository (db.${BUILT_IN.get(definition.name)}).`
          : `The table ${definition.name} is not registered: pass its definition to openDatabase({ tables }).`,
      )
    }
    let repository = this.#tables.get(definition)
    if (!repository) {
      repository = definition.features.softDelete
        ? new SoftDeleteRepository(definition as TableDef, this.session)
        : new Repository(definition as TableDef, this.session)
      this.#tables.set(definition, repository)
    }
    return repository as unknown as TableRepository<T>
  }

  get projectStates(): ProjectStatesRepository {
    return (this.#projectStates ??= new ProjectStatesRepository(
      this.#definition(projectStatesTable),
      this.session,
      {
        scenes: this.sceneStates,
        assets: this.assetStates,
        checkpoints: this.renderCheckpoints,
      },
      this.options.projectChildren,
    ))
  }
  get sceneStates(): SceneStatesRepository {
    return (this.#sceneStates ??= new SceneStatesRepository(this.#definition(sceneStatesTable), this.session))
  }
  get assetStates(): AssetStatesRepository {
    return (this.#assetStates ??= new Repository(this.#definition(assetStatesTable), this.session))
  }
  get renderCheckpoints(): RenderCheckpointsRepository {
    return (this.#renderCheckpoints ??= new RenderCheckpointsRepository(
      this.#definition(renderCheckpointsTable),
      this.session,
    ))
  }
  get projectVersions(): ProjectVersionsRepository {
    return (this.#projectVersions ??= new ProjectVersionsRepository(
      this.#definition(projectVersionsTable),
      this.session,
      {
        blobs: this.contentBlobs,
        scenes: this.sceneStates,
        projects: this.projectStates,
      },
    ))
  }
  get contentBlobs(): ContentBlobsRepository {
    return (this.#contentBlobs ??= new ContentBlobsRepository(
      this.#definition(contentBlobsTable),
      this.session,
    ))
  }
  get configurations(): ConfigurationsRepository {
    return (this.#configurations ??= new ConfigurationsRepository(
      this.#definition(configurationsTable),
      this.session,
      this.options.cipher,
    ))
  }
  get templates(): TemplatesRepository {
    return (this.#templates ??= new TemplatesRepository(this.#definition(templatesTable), this.session))
  }
  get customTemplates(): CustomTemplatesRepository {
    return (this.#customTemplates ??= new CustomTemplatesRepository(
      this.#definition(customTemplatesTable),
      this.session,
    ))
  }
  get exportHistory(): ExportHistoryRepository {
    return (this.#exportHistory ??= new ExportHistoryRepository(
      this.#definition(exportHistoryTable),
      this.session,
    ))
  }
  get userSetups(): UserSetupsRepository {
    return (this.#userSetups ??= new Repository(this.#definition(userSetupsTable), this.session))
  }
  get systemConfiguration(): SystemConfigurationRepository {
    return (this.#systemConfiguration ??= new Repository(
      this.#definition(systemConfigurationTable),
      this.session,
    ))
  }
  get actionLogs(): ActionLogsRepository {
    return (this.#actionLogs ??= new ActionLogsRepository(this.#definition(actionLogsTable), this.session, {
      projects: this.projectStates,
      scenes: this.sceneStates,
      appliers: this.options.appliers,
    }))
  }
  get auditEntries(): AuditEntriesRepository {
    return (this.#auditEntries ??= new AuditEntriesRepository(
      this.#definition(auditEntriesTable),
      this.session,
    ))
  }
}

/**
 * Builds all the repositories over one session, as a plain object (the database's), with
 * `table` for the application's own tables.
 */
export function createRepositories(
  session: Session,
  options: RepositoryOptions,
): Repositories & Pick<LazyRepositories, 'table'> {
  const lazy = new LazyRepositories(session, options)
  return {
    ...(Object.fromEntries(REPOSITORY_NAMES.map((name) => [name, lazy[name]])) as unknown as Repositories),
    table: (definition) => lazy.table(definition),
  }
}
