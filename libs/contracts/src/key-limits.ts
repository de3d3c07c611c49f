/** Active keys one chatbot may hold at once (key_limit_reached past it). Imports nothing: the console bundles it. */
export const KEY_LIMIT_PER_CHATBOT = 10;
