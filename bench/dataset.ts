/**
 * The benchmark's data set: a realistic Aura database (projects with specs and scenes, exports,
 * templates, audit history) generated from a seeded random source, so that every run measures
 * the same rows. It is loaded through the raw driver, not the library: building it is not what
 * is measured, and the raw path is an order of magnitude faster.
 */

/** How much data a run builds. */
export interface DatasetSize {
  readonly projects: number
  /** Scenes per project (the spec's 200,000 scenes for 20,000 projects is 10). */
  readonly scenesPerProject: number
  readonly exports: number
  readonly templates: number
  /**
   * Extra projects, beyond `projects`, that the write benchmarks may soft-delete; they are never
   * the target of a read benchmark.
   */
  readonly spareProjects: number
}

/** The three modes of `npm run bench`. */
export const SIZES = {
  tiny: { projects: 300, scenesPerProject: 10, exports: 300, templates: 60, spareProjects: 1_000 },
  default: {
    projects: 20_000,
    scenesPerProject: 10,
    exports: 20_000,
    templates: 2_000,
    spareProjects: 20_000,
  },
  full: {
    projects: 100_000,
    scenesPerProject: 10,
    exports: 100_000,
    templates: 10_000,
    spareProjects: 20_000,
  },
} as const satisfies Record<string, DatasetSize>

/** A deterministic pseudo-random source (mulberry32): the same seed gives the same data set. */
export class Random {
  #state: number

  constructor(seed: number) {
    this.#state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!
  }

  /** A lower-case version-4 UUID drawn from this source. */
  uuid(): string {
    const hex = (n: number) => {
      let s = ''
      for (let i = 0; i < n; i++) s += Math.floor(this.next() * 16).toString(16)
      return s
    }
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[this.int(0, 3)]}${hex(3)}-${hex(12)}`
  }

  /** `n` words of filler text. */
  words(n: number): string {
    const out: string[] = []
    for (let i = 0; i < n; i++) out.push(this.pick(WORDS))
    return out.join(' ')
  }
}

const WORDS = [
  'video',
  'scene',
  'launch',
  'product',
  'tutorial',
  'narration',
  'brand',
  'story',
  'camera',
  'light',
  'motion',
  'voice',
  'music',
  'intro',
  'outro',
  'timeline',
  'render',
  'caption',
  'image',
  'colour',
  'audience',
  'message',
  'energy',
  'calm',
  'bold',
]

/** Template categories and tags; the template-search benchmark queries these. */
export const TEMPLATE_CATEGORIES = [
  'Marketing',
  'Education',
  'Social',
  'Corporate',
  'Gaming',
  'Travel',
  'Food',
  'Music',
  'News',
  'Personal',
] as const
export const TEMPLATE_TAGS = [
  'intro',
  'promo',
  'explainer',
  'vertical',
  'square',
  'cinematic',
  'minimal',
  'upbeat',
  'calm',
  'corporate',
  'retro',
  'neon',
  'handwritten',
  'kinetic',
  'documentary',
  'vlog',
  'review',
  'howto',
  'teaser',
  'recap',
] as const

const PROJECT_STATUS_WEIGHTS: readonly [string, number][] = [
  ['Draft', 0.3],
  ['InProgress', 0.15],
  ['Completed', 0.45],
  ['Failed', 0.05],
  ['Cancelled', 0.05],
]
const EXPORT_STATUS_WEIGHTS: readonly [string, number][] = [
  ['Queued', 0.05],
  ['InProgress', 0.05],
  ['Completed', 0.8],
  ['Failed', 0.07],
  ['Cancelled', 0.03],
]
const STAGES = ['Script', 'TTS', 'Images', 'Composition', 'Render']
const PLATFORMS = ['YouTube', 'TikTok', 'Instagram', 'LinkedIn', 'Vimeo']
const RESOLUTIONS = ['1920x1080', '1080x1920', '1080x1080', '3840x2160', '1280x720']

function weighted(random: Random, weights: readonly [string, number][]): string {
  let x = random.next()
  for (const [value, weight] of weights) {
    x -= weight
    if (x < 0) return value
  }
  return weights[weights.length - 1]![0]
}

/** A row as column → value, with logical values (booleans, ISO timestamps). */
export type DataRow = Record<string, string | number | boolean | null>

/** Separate targets for the library and the raw reference, so that neither sees the other's writes. */
export interface SplitTargets {
  readonly library: readonly string[]
  readonly raw: readonly string[]
}

/** Split targets with a third share for the plain-Kysely peer. */
export interface PeerTargets extends SplitTargets {
  readonly kysely: readonly string[]
}

/** What the generator produced that the benchmarks need to pick their targets. */
export interface DatasetIndex {
  /** Ids of the read targets: visible projects with scenes. */
  readonly projectIds: readonly string[]
  /** Spare projects at row version 1 that the update benchmark edits over and over. */
  readonly updateTargets: PeerTargets
  /** Spare projects at row version 1 that the soft-delete benchmark deletes, each once. */
  readonly deleteTargets: PeerTargets
  /** Spare projects that the version benchmark snapshots over and over. */
  readonly versionTargets: SplitTargets
  /** Spare projects that the restore benchmark switches between two of their versions. */
  readonly restoreTargets: SplitTargets
}

/** One table's rows, generated in batches so that a million scenes never sit in memory at once. */
export interface TableBatches {
  readonly table: string
  readonly columns: readonly string[]
  batches(): Iterable<DataRow[]>
}

const EPOCH = Date.parse('2023-01-01T00:00:00.000Z')
const TWO_YEARS_MS = 2 * 365 * 24 * 3600 * 1000

/**
 * The data set of one size: the tables in foreign-key order, and the index of ids the
 * benchmarks pick from. Projects are generated first (their ids are kept); scenes follow.
 */
export function generateDataset(
  size: DatasetSize,
  seed = 20250101,
): { tables: TableBatches[]; index: DatasetIndex } {
  const random = new Random(seed)
  const total = size.projects + size.spareProjects
  const projects: DataRow[] = []
  const projectIds: string[] = []
  const spareProjectIds: string[] = []
  for (let i = 0; i < total; i++) {
    const spare = i >= size.projects
    const status = spare ? 'Draft' : weighted(random, PROJECT_STATUS_WEIGHTS)
    // 2% of the read population is soft-deleted, as in a database that has been used.
    const deleted = !spare && random.next() < 0.02
    const created = EPOCH + Math.floor(random.next() * TWO_YEARS_MS)
    const updated = created + random.int(0, 30 * 24 * 3600 * 1000)
    const id = random.uuid()
    if (spare) spareProjectIds.push(id)
    else if (!deleted) projectIds.push(id)
    const terminal = status === 'Completed' || status === 'Failed' || status === 'Cancelled'
    projects.push({
      id,
      title: `${random.words(3)} #${i}`,
      description: random.words(20),
      current_wizard_step: random.int(0, 3),
      status,
      completed_at: terminal ? new Date(updated).toISOString() : null,
      current_stage: status === 'Draft' ? null : random.pick(STAGES),
      progress_percent: status === 'Completed' ? 100 : random.int(0, 99),
      job_id: status === 'InProgress' ? `job-${i}` : null,
      brief_json: JSON.stringify({
        topic: random.words(6),
        audience: random.words(3),
        goal: random.words(8),
        tone: random.pick(['calm', 'bold', 'playful']),
        durationSeconds: random.int(15, 600),
        keyPoints: [random.words(5), random.words(5), random.words(5)],
      }),
      plan_spec_json: JSON.stringify({
        pacing: random.pick(['slow', 'medium', 'fast']),
        density: random.pick(['sparse', 'balanced', 'dense']),
        style: random.words(4),
        scenes: Array.from({ length: size.scenesPerProject }, (_, s) => ({
          index: s,
          heading: random.words(4),
        })),
      }),
      voice_spec_json: JSON.stringify({ voice: random.pick(['alloy', 'verse', 'sage']), rate: 1, pitch: 0 }),
      render_spec_json: JSON.stringify({
        resolution: random.pick(RESOLUTIONS),
        fps: random.pick([24, 30, 60]),
        codec: random.pick(['h264', 'hevc', 'vp9']),
        bitrateKbps: random.int(2000, 12000),
      }),
      error_message: status === 'Failed' ? `Render failed: ${random.words(6)}` : null,
      created_at: new Date(created).toISOString(),
      updated_at: new Date(updated).toISOString(),
      created_by: 'seed',
      modified_by: 'seed',
      row_version: spare ? 1 : random.int(1, 4),
      is_deleted: deleted,
      deleted_at: deleted ? new Date(updated).toISOString() : null,
      deleted_by: deleted ? 'seed' : null,
    })
  }

  const projectTable: TableBatches = {
    table: 'project_states',
    columns: Object.keys(projects[0]!),
    *batches() {
      for (let i = 0; i < projects.length; i += 2000) yield projects.slice(i, i + 2000)
    },
  }

  const sceneColumns = [
    'id',
    'project_id',
    'scene_index',
    'script_text',
    'audio_file_path',
    'image_file_path',
    'duration_seconds',
    'is_completed',
    'created_at',
    'updated_at',
    'created_by',
    'modified_by',
    'row_version',
  ]
  const sceneTable: TableBatches = {
    table: 'scene_states',
    columns: sceneColumns,
    *batches() {
      const sceneRandom = new Random(seed + 1)
      for (let p = 0; p < projects.length; p += 200) {
        const batch: DataRow[] = []
        for (const project of projects.slice(p, p + 200)) {
          for (let s = 0; s < size.scenesPerProject; s++) {
            const id = sceneRandom.uuid()
            batch.push({
              id,
              project_id: project.id as string,
              scene_index: s,
              script_text: sceneRandom.words(40),
              audio_file_path: `/media/${String(project.id)}/audio/${s}.wav`,
              image_file_path: `/media/${String(project.id)}/images/${s}.png`,
              duration_seconds: sceneRandom.int(20, 200) / 10,
              is_completed: sceneRandom.next() < 0.6,
              created_at: project.created_at as string,
              updated_at: project.updated_at as string,
              created_by: 'seed',
              modified_by: 'seed',
              row_version: 1,
            })
          }
        }
        yield batch
      }
    },
  }

  const exportTable: TableBatches = {
    table: 'export_history',
    columns: [
      'id',
      'input_file',
      'output_file',
      'preset_name',
      'status',
      'progress',
      'started_at',
      'completed_at',
      'error_message',
      'file_size',
      'duration_seconds',
      'platform',
      'resolution',
      'codec',
      'created_at',
      'updated_at',
      'created_by',
      'modified_by',
      'row_version',
    ],
    *batches() {
      const r = new Random(seed + 2)
      for (let i = 0; i < size.exports; i += 2000) {
        const batch: DataRow[] = []
        for (let j = i; j < Math.min(size.exports, i + 2000); j++) {
          const status = weighted(r, EXPORT_STATUS_WEIGHTS)
          const created = EPOCH + Math.floor(r.next() * TWO_YEARS_MS)
          const started = status === 'Queued' ? null : created + r.int(1000, 600_000)
          const finished = status === 'Completed' || status === 'Failed' || status === 'Cancelled'
          const completed = finished && started !== null ? started + r.int(10_000, 3_600_000) : null
          batch.push({
            id: r.uuid(),
            input_file: `/projects/${j}/timeline.json`,
            output_file: `/exports/${j}.mp4`,
            preset_name: r.pick(['YouTube 1080p', 'TikTok vertical', 'Instagram square', '4K master']),
            status,
            progress: status === 'Completed' ? 100 : r.int(0, 99),
            started_at: started === null ? null : new Date(started).toISOString(),
            completed_at: completed === null ? null : new Date(completed).toISOString(),
            error_message: status === 'Failed' ? `Encoder exited: ${r.words(4)}` : null,
            file_size: status === 'Completed' ? r.int(1_000_000, 2_000_000_000) : null,
            duration_seconds: status === 'Completed' ? r.int(15, 900) : null,
            platform: r.pick(PLATFORMS),
            resolution: r.pick(RESOLUTIONS),
            codec: r.pick(['h264', 'hevc', 'vp9']),
            created_at: new Date(created).toISOString(),
            updated_at: new Date(completed ?? started ?? created).toISOString(),
            created_by: 'seed',
            modified_by: 'seed',
            row_version: 1,
          })
        }
        yield batch
      }
    },
  }

  const templateTable: TableBatches = {
    table: 'templates',
    columns: [
      'id',
      'name',
      'description',
      'category',
      'sub_category',
      'preview_image',
      'preview_video',
      'tags',
      'template_data',
      'author',
      'is_system_template',
      'is_community_template',
      'usage_count',
      'rating',
      'rating_count',
      'created_at',
      'updated_at',
      'created_by',
      'modified_by',
      'row_version',
    ],
    *batches() {
      const r = new Random(seed + 3)
      for (let i = 0; i < size.templates; i += 2000) {
        const batch: DataRow[] = []
        for (let j = i; j < Math.min(size.templates, i + 2000); j++) {
          const tags = new Set<string>()
          const n = r.int(2, 5)
          while (tags.size < n) tags.add(r.pick(TEMPLATE_TAGS))
          const created = new Date(EPOCH + Math.floor(r.next() * TWO_YEARS_MS)).toISOString()
          const system = r.next() < 0.2
          batch.push({
            id: r.uuid(),
            name: `${r.words(2)} template ${j}`,
            description: r.words(25),
            category: r.pick(TEMPLATE_CATEGORIES),
            sub_category: r.pick(['Short', 'Long', 'Series', 'Ad', 'Story']),
            preview_image: `/previews/${j}.png`,
            preview_video: `/previews/${j}.mp4`,
            tags: [...tags].join(','),
            template_data: JSON.stringify({
              scenes: Array.from({ length: 6 }, (_, s) => ({
                index: s,
                layout: r.words(3),
                text: r.words(12),
              })),
              palette: [r.int(0, 0xffffff), r.int(0, 0xffffff), r.int(0, 0xffffff)],
            }),
            author: system ? 'System' : `user${r.int(1, 500)}`,
            is_system_template: system,
            is_community_template: !system,
            usage_count: r.int(0, 50_000),
            rating: r.int(0, 50) / 10,
            rating_count: r.int(0, 5_000),
            created_at: created,
            updated_at: created,
            created_by: 'seed',
            modified_by: 'seed',
            row_version: 1,
          })
        }
        yield batch
      }
    },
  }

  const auditTable: TableBatches = {
    table: 'audit_entries',
    columns: ['occurred_at', 'actor', 'table_name', 'row_id', 'action', 'changes_json', 'correlation_id'],
    *batches() {
      // One insert entry per project: the audit table is not empty, as in a used database.
      for (let i = 0; i < projects.length; i += 2000) {
        yield projects.slice(i, i + 2000).map((p) => ({
          occurred_at: p.created_at as string,
          actor: 'seed',
          table_name: 'project_states',
          row_id: p.id as string,
          action: 'insert',
          changes_json: null,
          correlation_id: null,
        }))
      }
    },
  }

  const edited = Math.min(1000, Math.floor(spareProjectIds.length / 10))
  const versioned = Math.min(200, Math.floor(spareProjectIds.length / 20))
  const restored = 4
  const versionsAt = 3 * edited
  const restoresAt = versionsAt + 2 * versioned
  const deletesAt = restoresAt + 2 * restored
  const deletable = Math.floor((spareProjectIds.length - deletesAt) / 3)
  const slice = (from: number, n: number) => spareProjectIds.slice(from, from + n)
  return {
    tables: [projectTable, sceneTable, exportTable, templateTable, auditTable],
    index: {
      projectIds,
      updateTargets: {
        library: slice(0, edited),
        raw: slice(edited, edited),
        kysely: slice(2 * edited, edited),
      },
      deleteTargets: {
        library: slice(deletesAt, deletable),
        raw: slice(deletesAt + deletable, deletable),
        kysely: slice(deletesAt + 2 * deletable, deletable),
      },
      versionTargets: {
        library: slice(versionsAt, versioned),
        raw: slice(versionsAt + versioned, versioned),
      },
      restoreTargets: { library: slice(restoresAt, restored), raw: slice(restoresAt + restored, restored) },
    },
  }
}
