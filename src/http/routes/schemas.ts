// JSON schemas shared by the REST routes (fastify validates with them; @fastify/swagger
// turns them into the OpenAPI document).

export const errorSchema = {
  type: 'object',
  description: 'An error',
  required: ['error_code', 'message'],
  properties: { error_code: { type: 'string' }, message: { type: 'string' } },
} as const;

export const topicNameParams = {
  type: 'object',
  required: ['topic'],
  properties: { topic: { type: 'string', minLength: 1 } },
} as const;

/** A non-negative integer in a path or query string (no type coercion of JSON bodies). */
export const digits = { type: 'string', pattern: '^[0-9]{1,18}$' } as const;
