import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';

import { STAGES, type StageQueues } from '@aso/shared';

/** Where Bull Board is served. */
export const QUEUE_BOARD_PATH = '/admin/queues';

/** Bull Board's own scripts and styles: public, the same in every installation. */
export const QUEUE_BOARD_STATIC_PATH = `${QUEUE_BOARD_PATH}/static/`;

/** A board per access level: the read-only one shows no buttons that act on jobs. */
export interface QueueBoards {
  readWrite: Hono;
  readOnly: Hono;
}

export function createQueueBoards(queues: StageQueues): QueueBoards {
  return { readWrite: board(queues, false), readOnly: board(queues, true) };
}

/** Bull Board over the three stage queues, mounted at its full path. */
function board(queues: StageQueues, readOnlyMode: boolean): Hono {
  const adapter = new HonoAdapter(serveStatic).setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: STAGES.map(
      (stage) =>
        new BullMQAdapter(queues.queue(stage), {
          readOnlyMode,
          description: `the ${stage} stage of every migration; a job id is a migration id`,
        }),
    ),
    serverAdapter: adapter,
    options: {
      uiConfig: {
        boardTitle: readOnlyMode ? 'ASO queues (read-only)' : 'ASO queues',
        // The board would fetch nothing from elsewhere either way; no external links.
        miscLinks: [{ text: 'API reference', url: '/api/v1/docs' }],
      },
    },
  });

  return new Hono().route(QUEUE_BOARD_PATH, adapter.registerPlugin());
}
