/** Shared wording of the usage routes' query parameters (docs/api.md, Management API). */
export const USAGE_QUERY_DESCRIPTIONS: Record<string, string> = {
  from: 'Start of the window, ISO-8601; default 24 hours before `to`.',
  to: 'End of the window, ISO-8601; default now. `from` after `to`, or a window of too many points, is `400 invalid_request`.',
  interval:
    'The width of each point; default `hour`. Minute points are kept USAGE_MINUTE_RETENTION_DAYS (default 7), hour points USAGE_HOUR_RETENTION_DAYS (default 400), day points forever: a `minute` or `hour` window that starts before its resolution is kept is `400 invalid_request`, naming the first time it may start.',
};
