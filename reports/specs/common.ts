// What every report spec shares: the Vega-Lite schema it is written against and the named data
// source that reports/html.ts binds the stage rows to (withData).
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const DATA = { name: 'data' } as const;
