import type { FastifyError, FastifyInstance } from 'fastify';
import { asUserError } from '../errors.ts';

/**
 * Every error answer has one shape: `{ error: { message, issues? } }`. A user error keeps its message and
 * status; anything else is a 500 whose details go to the log only.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const user = asUserError(error);
    if (user)
      return reply.status(user.status).send({ error: { message: user.message, issues: user.issues } });
    if (error.validation || (error.statusCode !== undefined && error.statusCode < 500)) {
      return reply.status(error.statusCode ?? 400).send({ error: { message: error.message, issues: [] } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .status(500)
      .send({ error: { message: 'Internal error; see the server log for details.', issues: [] } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { message: `No route ${request.method} ${request.url}.`, issues: [] } }),
  );
}
