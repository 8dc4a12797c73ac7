import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { LEGACY_DDL } from '../bench/legacy-ef-schema.js'

/** A legacy row: column name → value as EF Core stores it. */
export type LegacyRow = Record<string, string | number | bigint | null>

const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')

export const P1 = '3F2504E0-4F89-11D3-9A0C-0305E82C3301'
export const P2 = 'A0B1C2D3-E4F5-4A6B-8C7D-8E9FA0B1C2D3'
export const P3 = '11111111-2222-4333-8444-555555555555'

const brief = '{"Topic":"Caf\\u00E9 culture","Audience":"General","Tone":0,"DurationMinutes":2.5}'
const plan = '{"TargetDurationSeconds":150,"Pacing":1,"Density":2}'
const voice = '{"VoiceName":"Aria","Rate":1.0,"Pitch":0}'
const longTitle = `A video about ${'the history of the long title '.repeat(25)}`.trim()

/**
 * The rows of a legacy database in the documented shape: three projects (one running with the
 * app's real stage names, one soft-deleted whose versions remain, one completed), every one of
 * the 13 tables, upper-case GUIDs, 7-digit EF timestamps, the 0001-01-01 sentinel, a sensitive
 * configuration value in plaintext, a stale blob reference count, and two of the app's other
 * tables.
 */
export function legacyRows(): Record<string, LegacyRow[]> {
  return {
    ProjectStates: [
      {
        Id: P1,
        Title: longTitle,
        Description: 'Running through the pipeline',
        Status: 'InProgress',
        CreatedAt: '2025-11-02 05:06:40.1234567',
        UpdatedAt: '2025-11-03 10:00:00.5',
        CompletedAt: null,
        CurrentStage: 'VoiceGeneration',
        ProgressPercent: 40,
        JobId: 'job-7f3a',
        BriefJson: brief,
        PlanSpecJson: plan,
        VoiceSpecJson: voice,
        RenderSpecJson: null,
        ErrorMessage: null,
        DeletedAt: null,
        ModifiedBy: 'alice',
        IsDeleted: 0,
        CurrentWizardStep: 2,
        Category: 'Education',
        CreatedBy: 'alice',
        DeletedBy: null,
        DurationSeconds: 152.75,
        LastAutoSaveAt: '0001-01-01 00:00:00',
        OutputFilePath: 'C:\\aura\\out\\video.mp4',
        Tags: 'travel,summer',
        TemplateId: '0e2f3c4d-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
        ThumbnailPath: 'C:\\aura\\thumb.png',
      },
      {
        Id: P2,
        Title: 'Deleted draft',
        Description: null,
        Status: 'Draft',
        CreatedAt: '2025-10-30 08:00:00',
        UpdatedAt: '2025-11-01 09:30:00.25',
        CompletedAt: null,
        CurrentStage: 'Initialization',
        ProgressPercent: 0,
        JobId: null,
        BriefJson: '',
        PlanSpecJson: null,
        VoiceSpecJson: null,
        RenderSpecJson: null,
        ErrorMessage: null,
        DeletedAt: '2025-11-01 09:30:00.25',
        ModifiedBy: 'bob',
        IsDeleted: 1,
        CurrentWizardStep: 0,
        Category: null,
        CreatedBy: null,
        DeletedBy: 'bob',
        DurationSeconds: null,
        LastAutoSaveAt: null,
        OutputFilePath: null,
        Tags: null,
        TemplateId: null,
        ThumbnailPath: null,
      },
      {
        Id: P3,
        Title: 'Finished explainer',
        Description: 'Done',
        Status: 'Completed',
        CreatedAt: '2025-09-01 12:00:00.0000001',
        UpdatedAt: '2025-09-02 13:14:15.9999999',
        CompletedAt: '2025-09-02 13:14:15.999',
        CurrentStage: 'Rendering',
        ProgressPercent: 100,
        JobId: 'job-0001',
        BriefJson: '{"Topic":"Explainer"}',
        PlanSpecJson: '{}',
        VoiceSpecJson: '{}',
        RenderSpecJson: '{"Fps":30,"Codec":"H264"}',
        ErrorMessage: null,
        DeletedAt: null,
        ModifiedBy: null,
        IsDeleted: 0,
        CurrentWizardStep: 3,
        Category: 'Marketing',
        CreatedBy: null,
        DeletedBy: null,
        DurationSeconds: 60,
        LastAutoSaveAt: '2025-09-02 13:00:00.5',
        OutputFilePath: null,
        Tags: null,
        TemplateId: null,
        ThumbnailPath: null,
      },
    ],
    SceneStates: [
      scene('5C7F0000-0000-4000-8000-000000000001', P1, 0, 'Intro'),
      scene('5C7F0000-0000-4000-8000-000000000002', P1, 1, 'Main part'),
      scene('5C7F0000-0000-4000-8000-000000000003', P3, 0, 'Only scene'),
    ],
    AssetStates: [
      asset('A55E7000-0000-4000-8000-000000000001', P1, 'Audio', 1),
      asset('A55E7000-0000-4000-8000-000000000002', P1, 'Image', 0),
      asset('A55E7000-0000-4000-8000-000000000003', P3, 'Video', 0),
    ],
    RenderCheckpoints: [
      checkpoint('C0C0C0C0-0000-4000-8000-000000000001', P1, 'ScriptGeneration', '2025-11-02 05:10:00.1', 1),
      checkpoint('C0C0C0C0-0000-4000-8000-000000000002', P1, 'VoiceGeneration', '2025-11-02 05:20:00.2', 1),
      checkpoint('C0C0C0C0-0000-4000-8000-000000000003', P1, 'VoiceGeneration', '2025-11-02 05:30:00.3', 1),
      checkpoint('C0C0C0C0-0000-4000-8000-000000000004', P3, 'Rendering', '2025-09-02 13:00:00', 0),
    ],
    ProjectVersions: [
      version('7E500000-0000-4000-8000-000000000001', P1, 1, {
        BriefJson: brief,
        BriefHash: sha(brief),
        PlanSpecJson: plan,
        PlanHash: sha(plan),
        UpdatedAt: '0001-01-01 00:00:00',
        CreatedByUserId: 'alice',
      }),
      // Content held only inline (older rows): it becomes a blob.
      version('7E500000-0000-4000-8000-000000000002', P1, 2, {
        VoiceSpecJson: voice,
        VersionType: 'Autosave',
        Trigger: 'Timer',
        CreatedBy: 'alice',
      }),
      // Content held only as a blob reference.
      version('7E500000-0000-4000-8000-000000000003', P2, 1, {
        BriefHash: sha(brief),
        VersionType: 'RestorePoint',
      }),
      version('7E500000-0000-4000-8000-000000000004', P2, 2, {
        IsDeleted: 1,
        DeletedAt: '2025-11-01 09:30:00',
        DeletedBy: 'bob',
        PlanHash: sha(plan),
      }),
    ],
    ContentBlobs: [blob(brief, 'Brief', 5), blob(plan, 'Plan', 1)],
    Configurations: [
      config('Providers.OpenAI.ApiKey', 'sk-live-secret-123', 'Providers', 'string', 1),
      config('General.LastProjectId', '', 'General', 'null', 0),
      config('Video.Defaults', '{"Fps":30,"Resolution":"1080p"}', 'Video', 'json', 0),
      config('General.AutosaveEnabled', 'true', 'General', 'boolean', 0),
    ],
    templates: [
      template('0e2f3c4d-5a6b-4c7d-8e9f-0a1b2c3d4e5f', 'Explainer', 1, 0),
      template('1e2f3c4d-5a6b-4c7d-8e9f-0a1b2c3d4e5f', 'Community vlog', 0, 1),
      template('2e2f3c4d-5a6b-4c7d-8e9f-0a1b2c3d4e5f', 'My own', 0, 0),
    ],
    custom_templates: [
      {
        author: 'alice',
        category: 'Education',
        created_at: '2025-11-05 10:00:00',
        created_by: 'alice',
        deleted_at: null,
        deleted_by: null,
        description: 'Lecture style',
        id: '9c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
        is_default: 0,
        is_deleted: 0,
        llm_pipeline_json: '{"Model":"gpt-4o"}',
        modified_by: null,
        name: 'Lecture',
        script_structure_json: '{"Sections":["Intro","Body"]}',
        tags: 'lecture,education',
        updated_at: '2025-11-05 10:00:00',
        video_structure_json: '',
        visual_preferences_json: '{}',
      },
    ],
    export_history: [
      exportRow('e1e1e1e1-0000-4000-8000-000000000001', 'Processing', 55.5, null),
      exportRow('e1e1e1e1-0000-4000-8000-000000000002', 'Completed', 100, '2025-11-02 06:05:00.75'),
    ],
    ActionLogs: [
      action(
        'AC710000-0000-4000-8000-000000000001',
        'CreateProject',
        'Applied',
        '2025-11-02 05:06:40.2',
        null,
      ),
      action(
        'AC710000-0000-4000-8000-000000000002',
        'UpdateSettings',
        'Undone',
        '2025-11-02 07:00:00',
        '2025-11-02 07:01:00',
      ),
    ],
    user_setup: [
      {
        id: '6f1e2d3c-4b5a-4968-8776-655443322110',
        user_id: 'default',
        completed: 1,
        completed_at: '2025-10-26 01:00:00',
        version: '1.0.0',
        last_step: 6,
        updated_at: '2025-10-26 01:00:00.5',
        selected_tier: 'Free',
        wizard_state: '{"Step":6}',
      },
    ],
    system_configuration: [
      {
        id: 1,
        is_setup_complete: 1,
        ffmpeg_path: 'C:\\Tools\\ffmpeg.exe',
        output_directory: 'C:\\Users\\alice\\Videos\\Aura',
        created_at: '2025-10-26 00:59:00',
        updated_at: '2025-10-26 01:00:00',
      },
    ],
  }
}

function scene(id: string, project: string, index: number, text: string): LegacyRow {
  return {
    Id: id,
    ProjectId: project,
    SceneIndex: index,
    ScriptText: text,
    AudioFilePath: `C:\\aura\\${index}.wav`,
    ImageFilePath: null,
    DurationSeconds: 4.25 + index,
    IsCompleted: index === 0 ? 1 : 0,
    CreatedAt: `2025-11-02 05:0${index}:00.123`,
  }
}

function asset(id: string, project: string, type: string, temporary: number): LegacyRow {
  return {
    Id: id,
    ProjectId: project,
    AssetType: type,
    FilePath: `C:\\aura\\assets\\${type}.bin`,
    FileSizeBytes: 6_000_000_000,
    MimeType: type === 'Audio' ? 'audio/wav' : null,
    IsTemporary: temporary,
    CreatedAt: '2025-11-02 05:15:00',
  }
}

function checkpoint(id: string, project: string, stage: string, time: string, valid: number): LegacyRow {
  return {
    Id: id,
    ProjectId: project,
    StageName: stage,
    CheckpointTime: time,
    CompletedScenes: 1,
    TotalScenes: 2,
    CheckpointData: '{"SceneIds":[1,2]}',
    OutputFilePath: null,
    IsValid: valid,
  }
}

function version(id: string, project: string, n: number, extra: LegacyRow): LegacyRow {
  return {
    Id: id,
    ProjectId: project,
    VersionNumber: n,
    Name: `Version ${n}`,
    Description: null,
    VersionType: 'Manual',
    Trigger: null,
    CreatedAt: `2025-11-0${n} 04:00:00.5`,
    CreatedByUserId: null,
    BriefJson: null,
    PlanSpecJson: null,
    VoiceSpecJson: null,
    RenderSpecJson: null,
    TimelineJson: null,
    BriefHash: null,
    PlanHash: null,
    VoiceHash: null,
    RenderHash: null,
    TimelineHash: null,
    StorageSizeBytes: 321,
    IsMarkedImportant: n === 1 ? 1 : 0,
    IsDeleted: 0,
    DeletedAt: null,
    CreatedBy: null,
    DeletedBy: null,
    ModifiedBy: null,
    UpdatedAt: `2025-11-0${n} 04:00:00.5`,
    ...extra,
  }
}

function blob(content: string, type: string, references: number): LegacyRow {
  return {
    ContentHash: sha(content),
    Content: content,
    ContentType: type,
    SizeBytes: Buffer.byteLength(content, 'utf8'),
    CreatedAt: '2025-11-01 04:00:00',
    LastReferencedAt: '2025-11-01 04:00:00',
    ReferenceCount: references,
    CreatedBy: null,
    ModifiedBy: null,
    UpdatedAt: '0001-01-01 00:00:00',
  }
}

function config(key: string, value: string, category: string, type: string, sensitive: number): LegacyRow {
  return {
    Key: key,
    Value: value,
    Category: category,
    ValueType: type,
    Description: null,
    IsSensitive: sensitive,
    Version: 3,
    CreatedAt: '2025-10-26 01:00:00',
    UpdatedAt: '2025-11-01 01:00:00.1234',
    ModifiedBy: 'alice',
    IsActive: 1,
    CreatedBy: null,
  }
}

function template(id: string, name: string, system: number, community: number): LegacyRow {
  return {
    id,
    name,
    description: `${name} template`,
    category: 'Education',
    sub_category: '',
    preview_image: '',
    preview_video: '',
    tags: 'explainer,education',
    template_data: '{"Scenes":3,"Style":"Clean"}',
    created_at: '2025-10-26 00:00:00',
    updated_at: '2025-10-26 00:00:00',
    author: system ? 'Aura' : 'community',
    is_system_template: system,
    is_community_template: community,
    usage_count: 12,
    rating: 4.5,
    rating_count: 8,
  }
}

function exportRow(id: string, status: string, progress: number, completed: string | null): LegacyRow {
  return {
    id,
    input_file: 'C:\\aura\\out\\video.mp4',
    output_file: `C:\\aura\\exports\\${id}.mp4`,
    preset_name: 'YouTube 1080p',
    status,
    progress,
    created_at: '2025-11-02 06:00:00',
    started_at: '2025-11-02 06:00:01',
    completed_at: completed,
    error_message: null,
    file_size: completed ? 52_428_800 : null,
    duration_seconds: completed ? 120.5 : null,
    platform: 'YouTube',
    resolution: '1920x1080',
    codec: 'h264',
  }
}

function action(id: string, type: string, status: string, at: string, undone: string | null): LegacyRow {
  return {
    Id: id,
    UserId: '',
    ActionType: type,
    Description: `${type} by the app`,
    Timestamp: at,
    Status: status,
    AffectedResourceIds: P1,
    PayloadJson: '{"ProjectId":"' + P1 + '"}',
    InverseActionType: type === 'CreateProject' ? 'DeleteProject' : 'UpdateSettings',
    InversePayloadJson: '{}',
    CanBatch: 0,
    IsPersistent: 1,
    UndoneAt: undone,
    UndoneByUserId: undone ? 'alice' : null,
    ExpiresAt: '2026-11-02 05:06:40',
    ErrorMessage: null,
    CorrelationId: null,
  }
}

/** The app's tables outside the 13 (two of its 23), with rows: reported as not imported. */
const OTHER_TABLES = `
CREATE TABLE "MediaItems" ("Id" TEXT NOT NULL PRIMARY KEY, "Path" TEXT NOT NULL);
CREATE TABLE "QueuedJobs" ("Id" TEXT NOT NULL PRIMARY KEY, "Kind" TEXT NOT NULL);
INSERT INTO "MediaItems" VALUES ('M1', 'a.png'), ('M2', 'b.png');
INSERT INTO "QueuedJobs" VALUES ('J1', 'Render');
`

const EF_MIGRATIONS = [
  '20251026005425_InitialCreate',
  '20251101230642_AddUserSetupTable',
  '20251102050640_AddProjectStatePersistence',
  '20251103202216_AddActionLogAndSoftDelete',
  '20251108184353_AddWizardProjectManagement',
  '20251109170431_AddSystemConfiguration',
  '20251121045900_AddCreatedByToConfigurations',
  '20251122175419_AddMissingDatabaseTables',
]

/**
 * Writes a legacy aura.db at `file` in WAL mode, as the app leaves it. Returns the open
 * connection when `keepOpen` (the app still running: the -wal and -shm files stay beside it).
 */
export function buildLegacyDatabase(
  file: string,
  rows: Record<string, LegacyRow[]> = legacyRows(),
  options: { keepOpen?: boolean } = {},
): Database.Database | null {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.exec(LEGACY_DDL)
  db.exec(OTHER_TABLES)
  const history = db.prepare('insert into "__EFMigrationsHistory" values (?, ?)')
  for (const m of EF_MIGRATIONS) history.run(m, '8.0.11')
  db.transaction(() => {
    for (const [table, list] of Object.entries(rows)) {
      for (const row of list) {
        const columns = Object.keys(row)
        db.prepare(
          `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`,
        ).run(...columns.map((c) => row[c]))
      }
    }
  })()
  if (options.keepOpen) return db
  db.close()
  return null
}

/**
 * SHA-256 of the file and of its -wal (null where absent): the data. Not the -shm, SQLite's
 * shared-memory index, where the import's read lock takes a read mark as any reader does.
 */
export function legacyHashes(file: string): (string | null)[] {
  return ['', '-wal'].map((suffix) =>
    existsSync(file + suffix)
      ? createHash('sha256')
          .update(readFileSync(file + suffix))
          .digest('hex')
      : null,
  )
}
