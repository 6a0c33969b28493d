// The engine's public surface: other parts import only from here.
export { UserError, messageOf } from './errors.js';
