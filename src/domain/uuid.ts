const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in its 8-4-4-4-12 hex form, any case (GoTrue's uuid.FromString accepts the same). */
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);
