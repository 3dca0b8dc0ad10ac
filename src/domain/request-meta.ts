/** What a service may know of the request that called it: no `req`, just these facts. */
export interface RequestMeta {
  /** Client IP (for audit rows and sessions). */
  ip: string;
  userAgent: string | null;
  /** Audience: X-JWT-AUD header, else GOTRUE_JWT_AUD. */
  aud: string;
}
