import { EVENT_ID_PATTERN, MIGRATION_EVENT_TYPES } from '@aso/shared';

import type { JsonSchema, Operation, Parameter, PathItem, ResponseObject } from './types.ts';

/** What the event stream operation needs from the document that holds it. */
export interface EventPathParts {
  problems: (byStatus: Partial<Record<number, string[]>>) => Record<string, ResponseObject>;
  readProblems: Partial<Record<number, string[]>>;
  security: Operation['security'];
  migrationId: Parameter;
  /** The MigrationEvent component, which each `data:` line holds. */
  eventSchema: JsonSchema;
}

const eventId = (): JsonSchema => ({ type: 'string', pattern: EVENT_ID_PATTERN.source });

/** GET /api/v1/migrations/{id}/events of the OpenAPI description. */
export function eventPaths(parts: EventPathParts): Record<string, PathItem> {
  const { problems, readProblems, security } = parts;

  const stream: Operation = {
    operationId: 'streamMigrationEvents',
    summary: "Follow a migration's progress as server-sent events",
    description:
      'Replays the events logged so far, then follows the migration live and closes after its ' +
      'last event (`completed`, `failed` or `cancelled`). Each event has `id:` (its log entry ' +
      'id), `event:` (its type) and `data:` (a MigrationEvent as JSON). Comment lines ' +
      '(`: heartbeat`) come every 15 s while nothing happens. A client that reconnects with ' +
      'Last-Event-ID, or `last_event_id` in the query, resumes right after that event. ' +
      `Event types: ${MIGRATION_EVENT_TYPES.map((type) => `\`${type}\``).join(', ')}. ` +
      'An end event derived from the record because the log lacked it carries ' +
      '`derived: true` and no id. When the log cannot be read, one `stream-error` event ' +
      '(data: `{"message"}`) precedes the close; resume with Last-Event-ID.',
    tags: ['migrations'],
    security,
    parameters: [
      parts.migrationId,
      {
        name: 'Last-Event-ID',
        in: 'header',
        required: false,
        description:
          "resume after this event id; one past the last entry of this migration's log is " +
          'refused with 400',
        schema: eventId(),
      },
      {
        name: 'last_event_id',
        in: 'query',
        required: false,
        description: 'the same, for EventSource clients that cannot set headers',
        schema: eventId(),
      },
    ],
    responses: {
      200: {
        description: 'the event stream',
        content: {
          'text/event-stream': {
            schema: {
              type: 'string',
              description: 'server-sent events; every data line is a MigrationEvent',
              'x-event-data': parts.eventSchema,
            },
          },
        },
      },
      204: {
        description:
          'resumed after the last event of an ended migration: nothing more will come ' +
          '(an EventSource stops reconnecting)',
      },
      ...problems({ ...readProblems, 400: ['invalid-request'], 404: ['migration-not-found'] }),
    },
  };

  return { '/api/v1/migrations/{id}/events': { get: stream } };
}
