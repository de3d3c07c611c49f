/** Injection tokens shared by every app. */
export const LOGGER = Symbol('LOGGER');
export const CONFIG = Symbol('CONFIG');
