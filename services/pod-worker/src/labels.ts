/** Labels and annotations the orchestrator puts on the objects it creates. */
export const LABEL_MIGRATION_ID = 'aso.dev/migration-id';
export const LABEL_CHECKPOINT = 'aso.dev/checkpoint';
export const LABEL_WORKLOAD = 'aso.dev/workload';
export const ANNOTATION_MIGRATED_FROM = 'aso.dev/migrated-from';
export const ANNOTATION_SOURCE_NODE = 'aso.dev/source-node';
export const ANNOTATION_CREATED_BY_MIGRATION = 'aso.dev/created-by-migration';

/** The volume name under which the checkpoint claim is mounted. */
export const CHECKPOINT_VOLUME = 'migration-checkpoint';

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
