import pino, { type Logger } from 'pino';

/** JSON logs, pretty-printed when stdout is a terminal (docs/architecture.md §11). */
export function createLogger(level: string, pretty = process.stdout.isTTY === true): Logger {
  if (pretty) {
    return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino({ level });
}
