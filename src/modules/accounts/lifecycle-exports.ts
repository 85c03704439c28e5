/**
 * Opposition, creation after the window, closure, erasure, re-opening, suspension, operator commands.
 * Public interface of this part of the module (re-exported by index.ts).
 */
export {};
