/**
 * The schema of the .NET app's aura.db after its 8 EF Core migrations, exactly as
 * `sqlite3 aura.db .schema` prints it (legacy-ef.md), for building legacy fixtures.
 */
export const LEGACY_DDL = `
CREATE TABLE IF NOT EXISTS "ProjectStates" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ProjectStates" PRIMARY KEY,
    "Title" TEXT NOT NULL,
    "Description" TEXT NULL,
    "Status" TEXT NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "UpdatedAt" TEXT NOT NULL,
    "CompletedAt" TEXT NULL,
    "CurrentStage" TEXT NULL,
    "ProgressPercent" INTEGER NOT NULL,
    "JobId" TEXT NULL,
    "BriefJson" TEXT NULL,
    "PlanSpecJson" TEXT NULL,
    "VoiceSpecJson" TEXT NULL,
    "RenderSpecJson" TEXT NULL,
    "ErrorMessage" TEXT NULL
, "DeletedAt" TEXT NULL, "ModifiedBy" TEXT NULL, "IsDeleted" INTEGER NOT NULL DEFAULT 0, "CurrentWizardStep" INTEGER NOT NULL DEFAULT 0, "Category" TEXT NULL, "CreatedBy" TEXT NULL, "DeletedBy" TEXT NULL, "DurationSeconds" REAL NULL, "LastAutoSaveAt" TEXT NULL, "OutputFilePath" TEXT NULL, "Tags" TEXT NULL, "TemplateId" TEXT NULL, "ThumbnailPath" TEXT NULL);
CREATE INDEX "IX_ProjectStates_JobId" ON "ProjectStates" ("JobId");
CREATE INDEX "IX_ProjectStates_Status" ON "ProjectStates" ("Status");
CREATE INDEX "IX_ProjectStates_Status_UpdatedAt" ON "ProjectStates" ("Status", "UpdatedAt");
CREATE INDEX "IX_ProjectStates_UpdatedAt" ON "ProjectStates" ("UpdatedAt");
CREATE INDEX "IX_ProjectStates_IsDeleted" ON "ProjectStates" ("IsDeleted");
CREATE INDEX "IX_ProjectStates_IsDeleted_DeletedAt" ON "ProjectStates" ("IsDeleted", "DeletedAt");
CREATE INDEX "IX_ProjectStates_Category" ON "ProjectStates" ("Category");
CREATE INDEX "IX_ProjectStates_Category_CreatedAt" ON "ProjectStates" ("Category", "CreatedAt");
CREATE INDEX "IX_ProjectStates_CreatedAt" ON "ProjectStates" ("CreatedAt");
CREATE INDEX "IX_ProjectStates_Status_Category" ON "ProjectStates" ("Status", "Category");
CREATE INDEX "IX_ProjectStates_TemplateId" ON "ProjectStates" ("TemplateId");
CREATE TABLE IF NOT EXISTS "SceneStates" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_SceneStates" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "SceneIndex" INTEGER NOT NULL,
    "ScriptText" TEXT NOT NULL,
    "AudioFilePath" TEXT NULL,
    "ImageFilePath" TEXT NULL,
    "DurationSeconds" REAL NOT NULL,
    "IsCompleted" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    CONSTRAINT "FK_SceneStates_ProjectStates_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "ProjectStates" ("Id") ON DELETE CASCADE
);
CREATE INDEX "IX_SceneStates_ProjectId" ON "SceneStates" ("ProjectId");
CREATE INDEX "IX_SceneStates_ProjectId_SceneIndex" ON "SceneStates" ("ProjectId", "SceneIndex");
CREATE TABLE IF NOT EXISTS "AssetStates" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AssetStates" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "AssetType" TEXT NOT NULL,
    "FilePath" TEXT NOT NULL,
    "FileSizeBytes" INTEGER NOT NULL,
    "MimeType" TEXT NULL,
    "IsTemporary" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    CONSTRAINT "FK_AssetStates_ProjectStates_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "ProjectStates" ("Id") ON DELETE CASCADE
);
CREATE INDEX "IX_AssetStates_IsTemporary" ON "AssetStates" ("IsTemporary");
CREATE INDEX "IX_AssetStates_ProjectId" ON "AssetStates" ("ProjectId");
CREATE INDEX "IX_AssetStates_ProjectId_AssetType" ON "AssetStates" ("ProjectId", "AssetType");
CREATE TABLE IF NOT EXISTS "RenderCheckpoints" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_RenderCheckpoints" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "StageName" TEXT NOT NULL,
    "CheckpointTime" TEXT NOT NULL,
    "CompletedScenes" INTEGER NOT NULL,
    "TotalScenes" INTEGER NOT NULL,
    "CheckpointData" TEXT NULL,
    "OutputFilePath" TEXT NULL,
    "IsValid" INTEGER NOT NULL,
    CONSTRAINT "FK_RenderCheckpoints_ProjectStates_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "ProjectStates" ("Id") ON DELETE CASCADE
);
CREATE INDEX "IX_RenderCheckpoints_CheckpointTime" ON "RenderCheckpoints" ("CheckpointTime");
CREATE INDEX "IX_RenderCheckpoints_ProjectId" ON "RenderCheckpoints" ("ProjectId");
CREATE INDEX "IX_RenderCheckpoints_ProjectId_StageName" ON "RenderCheckpoints" ("ProjectId", "StageName");
CREATE TABLE IF NOT EXISTS "ProjectVersions" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ProjectVersions" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "VersionNumber" INTEGER NOT NULL,
    "Name" TEXT NULL,
    "Description" TEXT NULL,
    "VersionType" TEXT NOT NULL,
    "Trigger" TEXT NULL,
    "CreatedAt" TEXT NOT NULL,
    "CreatedByUserId" TEXT NULL,
    "BriefJson" TEXT NULL,
    "PlanSpecJson" TEXT NULL,
    "VoiceSpecJson" TEXT NULL,
    "RenderSpecJson" TEXT NULL,
    "TimelineJson" TEXT NULL,
    "BriefHash" TEXT NULL,
    "PlanHash" TEXT NULL,
    "VoiceHash" TEXT NULL,
    "RenderHash" TEXT NULL,
    "TimelineHash" TEXT NULL,
    "StorageSizeBytes" INTEGER NOT NULL,
    "IsMarkedImportant" INTEGER NOT NULL,
    "IsDeleted" INTEGER NOT NULL,
    "DeletedAt" TEXT NULL, "CreatedBy" TEXT NULL, "DeletedBy" TEXT NULL, "ModifiedBy" TEXT NULL, "UpdatedAt" TEXT NOT NULL DEFAULT '0001-01-01 00:00:00',
    CONSTRAINT "FK_ProjectVersions_ProjectStates_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "ProjectStates" ("Id") ON DELETE CASCADE
);
CREATE INDEX "IX_ProjectVersions_CreatedAt" ON "ProjectVersions" ("CreatedAt");
CREATE INDEX "IX_ProjectVersions_IsDeleted" ON "ProjectVersions" ("IsDeleted");
CREATE INDEX "IX_ProjectVersions_IsDeleted_DeletedAt" ON "ProjectVersions" ("IsDeleted", "DeletedAt");
CREATE INDEX "IX_ProjectVersions_IsMarkedImportant" ON "ProjectVersions" ("IsMarkedImportant");
CREATE INDEX "IX_ProjectVersions_ProjectId" ON "ProjectVersions" ("ProjectId");
CREATE INDEX "IX_ProjectVersions_ProjectId_CreatedAt" ON "ProjectVersions" ("ProjectId", "CreatedAt");
CREATE UNIQUE INDEX "IX_ProjectVersions_ProjectId_VersionNumber" ON "ProjectVersions" ("ProjectId", "VersionNumber");
CREATE INDEX "IX_ProjectVersions_VersionType" ON "ProjectVersions" ("VersionType");
CREATE TABLE IF NOT EXISTS "ContentBlobs" (
    "ContentHash" TEXT NOT NULL CONSTRAINT "PK_ContentBlobs" PRIMARY KEY,
    "Content" TEXT NOT NULL,
    "ContentType" TEXT NOT NULL,
    "SizeBytes" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "LastReferencedAt" TEXT NOT NULL,
    "ReferenceCount" INTEGER NOT NULL
, "CreatedBy" TEXT NULL, "ModifiedBy" TEXT NULL, "UpdatedAt" TEXT NOT NULL DEFAULT '0001-01-01 00:00:00');
CREATE INDEX "IX_ContentBlobs_ContentType" ON "ContentBlobs" ("ContentType");
CREATE INDEX "IX_ContentBlobs_LastReferencedAt" ON "ContentBlobs" ("LastReferencedAt");
CREATE INDEX "IX_ContentBlobs_ReferenceCount" ON "ContentBlobs" ("ReferenceCount");
CREATE TABLE IF NOT EXISTS "Configurations" (
    "Key" TEXT NOT NULL CONSTRAINT "PK_Configurations" PRIMARY KEY,
    "Value" TEXT NOT NULL,
    "Category" TEXT NOT NULL,
    "ValueType" TEXT NOT NULL,
    "Description" TEXT NULL,
    "IsSensitive" INTEGER NOT NULL,
    "Version" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "UpdatedAt" TEXT NOT NULL,
    "ModifiedBy" TEXT NULL,
    "IsActive" INTEGER NOT NULL
, "CreatedBy" TEXT NULL);
CREATE INDEX "IX_Configurations_Category" ON "Configurations" ("Category");
CREATE INDEX "IX_Configurations_Category_IsActive" ON "Configurations" ("Category", "IsActive");
CREATE INDEX "IX_Configurations_Category_UpdatedAt" ON "Configurations" ("Category", "UpdatedAt");
CREATE INDEX "IX_Configurations_IsActive" ON "Configurations" ("IsActive");
CREATE INDEX "IX_Configurations_IsSensitive" ON "Configurations" ("IsSensitive");
CREATE INDEX "IX_Configurations_UpdatedAt" ON "Configurations" ("UpdatedAt");
CREATE TABLE IF NOT EXISTS "templates" (
    "id" TEXT NOT NULL CONSTRAINT "PK_templates" PRIMARY KEY,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "sub_category" TEXT NOT NULL,
    "preview_image" TEXT NOT NULL,
    "preview_video" TEXT NOT NULL,
    "tags" TEXT NOT NULL,
    "template_data" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "author" TEXT NOT NULL,
    "is_system_template" INTEGER NOT NULL,
    "is_community_template" INTEGER NOT NULL,
    "usage_count" INTEGER NOT NULL,
    "rating" REAL NOT NULL,
    "rating_count" INTEGER NOT NULL
);
CREATE INDEX "IX_templates_category" ON "templates" ("category");
CREATE INDEX "IX_templates_category_sub_category" ON "templates" ("category", "sub_category");
CREATE INDEX "IX_templates_is_community_template" ON "templates" ("is_community_template");
CREATE INDEX "IX_templates_is_system_template" ON "templates" ("is_system_template");
CREATE TABLE IF NOT EXISTS "custom_templates" (
    "author" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    "created_by" TEXT NULL,
    "deleted_at" TEXT NULL,
    "deleted_by" TEXT NULL,
    "description" TEXT NOT NULL,
    "id" TEXT NOT NULL CONSTRAINT "PK_custom_templates" PRIMARY KEY,
    "is_default" INTEGER NOT NULL,
    "is_deleted" INTEGER NOT NULL,
    "llm_pipeline_json" TEXT NOT NULL,
    "modified_by" TEXT NULL,
    "name" TEXT NOT NULL,
    "script_structure_json" TEXT NOT NULL,
    "tags" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "video_structure_json" TEXT NOT NULL,
    "visual_preferences_json" TEXT NOT NULL
);
CREATE INDEX "IX_custom_templates_category" ON "custom_templates" ("category");
CREATE INDEX "IX_custom_templates_category_created_at" ON "custom_templates" ("category", "created_at");
CREATE INDEX "IX_custom_templates_created_at" ON "custom_templates" ("created_at");
CREATE INDEX "IX_custom_templates_is_default" ON "custom_templates" ("is_default");
CREATE INDEX "IX_custom_templates_is_deleted" ON "custom_templates" ("is_deleted");
CREATE INDEX "IX_custom_templates_is_deleted_deleted_at" ON "custom_templates" ("is_deleted", "deleted_at");
CREATE TABLE IF NOT EXISTS "export_history" (
    "id" TEXT NOT NULL CONSTRAINT "PK_export_history" PRIMARY KEY,
    "input_file" TEXT NOT NULL,
    "output_file" TEXT NOT NULL,
    "preset_name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "progress" REAL NOT NULL,
    "created_at" TEXT NOT NULL,
    "started_at" TEXT NULL,
    "completed_at" TEXT NULL,
    "error_message" TEXT NULL,
    "file_size" INTEGER NULL,
    "duration_seconds" REAL NULL,
    "platform" TEXT NULL,
    "resolution" TEXT NULL,
    "codec" TEXT NULL
);
CREATE INDEX "IX_export_history_created_at" ON "export_history" ("created_at");
CREATE INDEX "IX_export_history_status" ON "export_history" ("status");
CREATE INDEX "IX_export_history_status_created_at" ON "export_history" ("status", "created_at");
CREATE TABLE IF NOT EXISTS "ActionLogs" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ActionLogs" PRIMARY KEY,
    "UserId" TEXT NOT NULL,
    "ActionType" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "Timestamp" TEXT NOT NULL,
    "Status" TEXT NOT NULL,
    "AffectedResourceIds" TEXT NULL,
    "PayloadJson" TEXT NULL,
    "InverseActionType" TEXT NULL,
    "InversePayloadJson" TEXT NULL,
    "CanBatch" INTEGER NOT NULL,
    "IsPersistent" INTEGER NOT NULL,
    "UndoneAt" TEXT NULL,
    "UndoneByUserId" TEXT NULL,
    "ExpiresAt" TEXT NULL,
    "ErrorMessage" TEXT NULL,
    "CorrelationId" TEXT NULL
);
CREATE INDEX "IX_ActionLogs_ActionType" ON "ActionLogs" ("ActionType");
CREATE INDEX "IX_ActionLogs_CorrelationId" ON "ActionLogs" ("CorrelationId");
CREATE INDEX "IX_ActionLogs_ExpiresAt" ON "ActionLogs" ("ExpiresAt");
CREATE INDEX "IX_ActionLogs_Status" ON "ActionLogs" ("Status");
CREATE INDEX "IX_ActionLogs_Status_Timestamp" ON "ActionLogs" ("Status", "Timestamp");
CREATE INDEX "IX_ActionLogs_Timestamp" ON "ActionLogs" ("Timestamp");
CREATE INDEX "IX_ActionLogs_UserId" ON "ActionLogs" ("UserId");
CREATE INDEX "IX_ActionLogs_UserId_Timestamp" ON "ActionLogs" ("UserId", "Timestamp");
CREATE TABLE IF NOT EXISTS "user_setup" (
    "id" TEXT NOT NULL CONSTRAINT "PK_user_setup" PRIMARY KEY,
    "user_id" TEXT NOT NULL,
    "completed" INTEGER NOT NULL,
    "completed_at" TEXT NULL,
    "version" TEXT NULL,
    "last_step" INTEGER NOT NULL,
    "updated_at" TEXT NOT NULL,
    "selected_tier" TEXT NULL,
    "wizard_state" TEXT NULL
);
CREATE INDEX "IX_user_setup_completed" ON "user_setup" ("completed");
CREATE INDEX "IX_user_setup_updated_at" ON "user_setup" ("updated_at");
CREATE UNIQUE INDEX "IX_user_setup_user_id" ON "user_setup" ("user_id");
CREATE TABLE IF NOT EXISTS "system_configuration" (
    "id" INTEGER NOT NULL CONSTRAINT "PK_system_configuration" PRIMARY KEY AUTOINCREMENT,
    "is_setup_complete" INTEGER NOT NULL,
    "ffmpeg_path" TEXT NULL,
    "output_directory" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS "__EFMigrationsHistory" (
    "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
    "ProductVersion" TEXT NOT NULL
);
`
