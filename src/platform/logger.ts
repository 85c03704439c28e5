import { pino, type Logger } from 'pino';

/**
 * Structured logs (pino). Health data never goes to logs: requests are logged by method, route
 * and status only, and errors by code. Authorization and cookies are redacted.
 * @example const log = createLogger('info');
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      remove: true,
    },
  });
}
