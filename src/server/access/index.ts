/**
 * Who may talk to a node and how much: client tokens and what they may do, browsers kept out,
 * connection and body limits, and a log of refusals no stranger can flood.
 */
export { AccessPolicy } from './access-policy.ts';
export { type Action, AuthFileError, generateToken, hashToken, parseAuthFile } from './auth-file.ts';
export { type Caller, ClientAccess } from './client-access.ts';
export { createHttpGuards, type HttpGuards, type HttpGuardsOptions } from './http-guards.ts';
export { RateLimitedLog } from './rate-limited-log.ts';
