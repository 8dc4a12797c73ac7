import os from 'node:os'
import path from 'node:path'
import { ConstraintError } from '../errors.js'
import type { ConfigValue } from '../repository/configurations-repository.js'
import type { NewCustomTemplate } from '../schema/custom-templates.js'
import type { NewExportHistoryEntry } from '../schema/export-history.js'
import type { NewProjectState } from '../schema/project-states.js'
import type { NewTemplate } from '../schema/templates.js'
import type { UnitOfWork, UnitOfWorkOptions } from '../unit-of-work.js'

/** The tables `seed` writes to, in the order it fills them. */
export const SEEDED_TABLES = [
  'user_setups',
  'project_states',
  'templates',
  'custom_templates',
  'export_history',
  'configurations',
] as const

/**
 * What `db.seed()` inserts: `development` (the default) the sample data (a user
 * setup, projects, templates, exports) and the configuration defaults;
 * `production` only the configuration defaults, which the application needs to start.
 */
export type SeedProfile = 'development' | 'production'

export const SEED_PROFILES: readonly SeedProfile[] = ['development', 'production']

/** What `db.seed()` did: rows inserted per table (0 everywhere when everything was there). */
export interface SeedResult {
  readonly inserted: Readonly<Record<(typeof SEEDED_TABLES)[number], number>>
  /** The sum of `inserted`. */
  readonly total: number
}

/** One default setting of the application. */
export interface DefaultSetting {
  readonly key: string
  readonly value: ConfigValue
  readonly category: string
  readonly description: string
}

const HOUR_MS = 3_600_000

/*
 * Fixed ids make the seed idempotent: a row is inserted only when no row with its id (deleted
 * ones included) exists. They are valid version-4 UUIDs that spell "5eed".
 */
const id = (n: number) => `5eed0000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`

const PROJECTS: readonly (NewProjectState & { id: string })[] = [
  {
    id: id(0x101),
    title: 'Welcome to Aura - Sample Project',
    description:
      'This is a sample project to help you get started with Aura Video Studio. ' +
      'It demonstrates a simple video workflow with script, voiceover, and visuals.',
    status: 'Draft',
    currentWizardStep: 0,
    progressPercent: 25,
    currentStage: 'Script',
    briefJson: '{"topic":"Introduction to Aura Video Studio","duration":60}',
  },
  {
    id: id(0x102),
    title: 'Quick Start Tutorial',
    description: 'Learn how to create your first video in Aura using the Guided Mode.',
    status: 'InProgress',
    currentWizardStep: 2,
    progressPercent: 50,
    currentStage: 'TTS',
    briefJson: '{"topic":"Quick Start Guide","duration":90}',
    planSpecJson: '{"scenes":[{"index":0,"text":"Welcome to the quick start guide"}]}',
  },
  {
    id: id(0x103),
    title: 'Advanced Features Demo',
    description: 'Explore advanced features like ML Lab and custom prompt templates.',
    status: 'Completed',
    currentWizardStep: 3,
    progressPercent: 100,
    currentStage: 'Render',
    briefJson: '{"topic":"Advanced Features Overview","duration":120}',
    planSpecJson: '{"scenes":[{"index":0,"text":"Advanced features demo"}]}',
    voiceSpecJson: '{"provider":"openai","voice":"alloy"}',
  },
]

const TEMPLATES: readonly (NewTemplate & { id: string })[] = [
  {
    id: id(0x201),
    name: 'Social Media Quick Post',
    description: 'Short-form video optimized for social media platforms',
    category: 'SocialMedia',
    subCategory: 'Short',
    tags: 'social,quick,short-form',
    templateData: '{"duration":30,"aspectRatio":"9:16"}',
    author: 'Aura Team',
    isSystemTemplate: true,
    isCommunityTemplate: false,
    usageCount: 156,
    rating: 4.5,
    ratingCount: 42,
  },
  {
    id: id(0x202),
    name: 'Educational Content',
    description: 'Template for creating educational and tutorial videos',
    category: 'Education',
    subCategory: 'Tutorial',
    tags: 'education,tutorial,learning',
    templateData: '{"duration":300,"aspectRatio":"16:9"}',
    author: 'Aura Team',
    isSystemTemplate: true,
    isCommunityTemplate: false,
    usageCount: 89,
    rating: 4.8,
    ratingCount: 31,
  },
  {
    id: id(0x203),
    name: 'Product Showcase',
    description: 'Highlight product features with dynamic visuals',
    category: 'Marketing',
    subCategory: 'Product',
    tags: 'marketing,product,showcase',
    templateData: '{"duration":90,"aspectRatio":"16:9"}',
    author: 'Aura Team',
    isSystemTemplate: true,
    isCommunityTemplate: false,
    usageCount: 124,
    rating: 4.6,
    ratingCount: 38,
  },
]

const CUSTOM_TEMPLATES: readonly (NewCustomTemplate & { id: string })[] = [
  {
    id: id(0x301),
    name: 'My Custom Educational Template',
    description: 'Custom template for my educational content series',
    category: 'Education',
    tags: 'education,custom,series',
    author: 'Demo User',
    isDefault: false,
    scriptStructureJson: '{"scenes":3,"style":"educational"}',
    videoStructureJson: '{"intro":5,"body":80,"outro":15}',
    llmPipelineJson: '{"provider":"openai","model":"gpt-4"}',
    visualPreferencesJson: '{"style":"modern","color_scheme":"blue"}',
  },
  {
    id: id(0x302),
    name: 'Quick Social Media Template',
    description: 'My go-to template for quick social media posts',
    category: 'SocialMedia',
    tags: 'social,quick,vertical',
    author: 'Demo User',
    isDefault: true,
    scriptStructureJson: '{"scenes":1,"style":"casual"}',
    videoStructureJson: '{"format":"vertical","duration":30}',
    llmPipelineJson: '{"provider":"openai","model":"gpt-3.5-turbo"}',
    visualPreferencesJson: '{"style":"vibrant","color_scheme":"rainbow"}',
  },
]

/** Two finished exports; their times are relative to the moment of seeding. */
function exports(now: number): (NewExportHistoryEntry & { id: string })[] {
  return [
    {
      id: id(0x401),
      inputFile: '/tmp/project1.mp4',
      outputFile: '/output/project1_youtube.mp4',
      presetName: 'YouTube 1080p',
      status: 'Completed',
      progress: 100,
      startedAt: new Date(now - 24 * HOUR_MS),
      completedAt: new Date(now - 23.75 * HOUR_MS),
      fileSize: 52_428_800,
      durationSeconds: 120,
      platform: 'YouTube',
      resolution: '1920x1080',
      codec: 'h264',
    },
    {
      id: id(0x402),
      inputFile: '/tmp/project2.mp4',
      outputFile: '/output/project2_instagram.mp4',
      presetName: 'Instagram Reel',
      status: 'Completed',
      progress: 100,
      startedAt: new Date(now - 12 * HOUR_MS),
      completedAt: new Date(now - (11 + 50 / 60) * HOUR_MS),
      fileSize: 15_728_640,
      durationSeconds: 30,
      platform: 'Instagram',
      resolution: '1080x1920',
      codec: 'h264',
    },
  ]
}

/**
 * The production defaults of the application's settings (General, FileLocations, VideoDefaults,
 * Advanced, System), typed by their values. Directories are resolved under the user's home
 * directory, like `system_configuration.output_directory`; empty tool paths mean "find on PATH".
 */
export function defaultSettings(home: string = os.homedir(), tmp: string = os.tmpdir()): DefaultSetting[] {
  const aura = path.join(home, 'AuraVideoStudio')
  const general = (key: string, value: ConfigValue, description: string) => ({
    key: `General.${key}`,
    value,
    category: 'General',
    description,
  })
  const files = (key: string, value: string, description: string) => ({
    key: `FileLocations.${key}`,
    value,
    category: 'FileLocations',
    description,
  })
  const video = (key: string, value: ConfigValue, description: string) => ({
    key: `VideoDefaults.${key}`,
    value,
    category: 'VideoDefaults',
    description,
  })
  const advanced = (key: string, value: ConfigValue, description: string) => ({
    key: `Advanced.${key}`,
    value,
    category: 'Advanced',
    description,
  })
  const system = (key: string, value: ConfigValue, description: string) => ({
    key: `System.${key}`,
    value,
    category: 'System',
    description,
  })
  return [
    general('Theme', 'Dark', 'Application theme: Light, Dark or Auto (follow the system)'),
    general('Language', 'en-US', 'Application language'),
    general(
      'StartupBehavior',
      'ShowDashboard',
      'What opens at start: ShowDashboard, ShowLastProject or ShowNewProjectDialog',
    ),
    general('AutosaveEnabled', true, 'Save open projects automatically'),
    general('AutosaveIntervalSeconds', 300, 'Seconds between autosaves (30 to 3600)'),
    general('CheckForUpdates', true, 'Check for updates at start'),
    general('AdvancedModeEnabled', false, 'Show the Advanced Mode features'),
    files('OutputDirectory', path.join(aura, 'Output'), 'Where exported videos go'),
    files('ProjectsDirectory', path.join(aura, 'Projects'), 'Where project files are kept'),
    files('MediaLibraryDirectory', path.join(aura, 'Media'), 'Where media assets are kept'),
    files('TempDirectory', path.join(tmp, 'AuraVideoStudio'), 'Temporary files of rendering and export'),
    files('FfmpegPath', '', 'FFmpeg executable; empty: find it on PATH'),
    files('FfprobePath', '', 'FFprobe executable; empty: find it on PATH'),
    video('Resolution', '1920x1080', 'Default export resolution'),
    video('FrameRate', 30, 'Default frames per second (24 to 120)'),
    video('Codec', 'libx264', 'Default video codec'),
    video('Bitrate', '5M', 'Default video bitrate'),
    video('AudioCodec', 'aac', 'Default audio codec'),
    video('AudioBitrate', '192k', 'Default audio bitrate'),
    video('AudioSampleRate', 44_100, 'Default audio sample rate in Hz'),
    advanced('OfflineMode', false, 'Use no cloud service'),
    advanced('EnableTelemetry', false, 'Send anonymous usage data'),
    advanced('EnableCrashReports', false, 'Send crash reports'),
    advanced('MaxConcurrentJobs', 2, 'Render and export jobs that may run at the same time'),
    advanced('LogLevel', 'Information', 'Log detail: Trace, Debug, Information, Warning, Error'),
    advanced('HardwareAcceleration', true, 'Use GPU encoders when available'),
    advanced('MaxCacheSizeMb', 5000, 'Largest size of the render cache in MB'),
    advanced('OllamaUrl', 'http://127.0.0.1:11434', 'Local Ollama server'),
    advanced('StableDiffusionUrl', 'http://127.0.0.1:7860', 'Local Stable Diffusion WebUI'),
    system(
      'SchemaVersion',
      1,
      'Version of this layout of configuration keys (migrations are recorded in aura_migrations)',
    ),
    system('WizardVersion', '1.0.0', 'Version of the first-run wizard'),
  ]
}

/** What seeding needs of an open database (`AuraDatabase` is one): units of work and its actor. */
export interface SeedTarget {
  readonly defaultActor: string | null
  transaction<T>(fn: (uow: UnitOfWork) => Promise<T>, options: UnitOfWorkOptions): Promise<T>
}

/**
 * Inserts the development seed data in one unit of work, each row
 * only when it is absent (fixed ids; configuration keys and the `default` user setup by key), so
 * a second run inserts nothing and never overwrites a user's changes. A concurrent seed that
 * inserted the same rows first makes this one retry once, finding them.
 */
export async function seedDatabase(
  db: SeedTarget,
  profile: SeedProfile = 'development',
): Promise<SeedResult> {
  const run = () => db.transaction((uow) => seedUnit(uow, profile), { actor: db.defaultActor ?? 'aura-seed' })
  try {
    return await run()
  } catch (error) {
    if (!(error instanceof ConstraintError)) throw error
    return run()
  }
}

async function seedUnit(uow: UnitOfWork, profile: SeedProfile): Promise<SeedResult> {
  const inserted = {
    user_setups: 0,
    project_states: 0,
    templates: 0,
    custom_templates: 0,
    export_history: 0,
    configurations: 0,
  }
  if (profile === 'development') await seedSampleData(uow, inserted)
  for (const setting of defaultSettings()) {
    // Deactivated keys count as present: the user turned them off.
    if (await uow.configurations.any({ key: setting.key })) continue
    await uow.configurations.set(setting.key, setting.value, {
      category: setting.category,
      description: setting.description,
    })
    inserted.configurations++
  }
  const total = Object.values(inserted).reduce((sum, n) => sum + n, 0)
  return { inserted, total }
}

/** The development sample data: the default user setup, projects, templates and exports. */
async function seedSampleData(
  uow: UnitOfWork,
  inserted: Record<(typeof SEEDED_TABLES)[number], number>,
): Promise<void> {
  const now = Date.now()
  if (!(await uow.userSetups.any({ userId: 'default' }))) {
    await uow.userSetups.add({
      id: id(0x001),
      userId: 'default',
      completed: false,
      version: '1.0.0',
      lastStep: 0,
    })
    inserted.user_setups++
  }
  for (const project of PROJECTS) {
    if (await uow.projectStates.getById(project.id, { includeDeleted: true })) continue
    const terminal = project.status === 'Completed'
    await uow.projectStates.add({
      ...project,
      ...(terminal ? { completedAt: new Date(now - 12 * HOUR_MS) } : {}),
    })
    inserted.project_states++
  }
  for (const template of TEMPLATES) {
    if (await uow.templates.getById(template.id)) continue
    await uow.templates.add(template)
    inserted.templates++
  }
  for (const template of CUSTOM_TEMPLATES) {
    if (await uow.customTemplates.getById(template.id, { includeDeleted: true })) continue
    await uow.customTemplates.add(template)
    inserted.custom_templates++
  }
  for (const entry of exports(now)) {
    if (await uow.exportHistory.getById(entry.id)) continue
    await uow.exportHistory.add(entry)
    inserted.export_history++
  }
}
