import type { BuiltinProviderName } from '../../config/providers';
import { apple } from './apple';
import { azure } from './azure';
import { bitbucket } from './bitbucket';
import { discord } from './discord';
import { facebook } from './facebook';
import { figma } from './figma';
import { github } from './github';
import { gitlab } from './gitlab';
import { google } from './google';
import { kakao } from './kakao';
import { keycloak } from './keycloak';
import { linkedinOidc } from './linkedin-oidc';
import { notion } from './notion';
import { slackOidc } from './slack-oidc';
import type { BuiltinProviderSpec } from './spec';
import { spotify } from './spotify';
import { twitch } from './twitch';
import { workos } from './workos';
import { x } from './x';
import { zoom } from './zoom';

/** Every built-in provider's definition, by its GoTrue name. */
export const BUILTIN_SPECS: Record<BuiltinProviderName, BuiltinProviderSpec> = {
  apple,
  azure,
  bitbucket,
  discord,
  facebook,
  figma,
  github,
  gitlab,
  google,
  kakao,
  keycloak,
  linkedin_oidc: linkedinOidc,
  notion,
  slack_oidc: slackOidc,
  spotify,
  twitch,
  twitter: x,
  workos,
  x,
  zoom,
};
