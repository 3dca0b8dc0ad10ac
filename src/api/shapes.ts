/** The response shapes moved down to src/http/shapes.ts so feature folders can use them too. */
export * from '../http/shapes';
