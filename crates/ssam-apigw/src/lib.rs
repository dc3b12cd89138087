//! API Gateway emulator: routes, v1/v2 events, response mapping, CORS, limits.
