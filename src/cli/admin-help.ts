/** `gotrue admin --help`; apart from admin.ts so printing it loads none of the flows. */
export const ADMIN_HELP = `Usage: gotrue admin <command> [--aud <audience>]

Commands (run against the configured database directly, no HTTP):
  createuser <email> <password> [role] [--confirm] [--admin]
                          create a user (adduser is an alias); --confirm confirms the email at once (as does
                          GOTRUE_MAILER_AUTOCONFIRM), --admin gives it GOTRUE_JWT_ADMIN_GROUP_NAME as role
                          (a role argument wins)
  deleteuser <email|id>   delete a user and everything it owns
  editrole <email|id> <role>
                          set a user's role

--aud picks the audience (default GOTRUE_JWT_AUD). Exit status: 0 done, 1 refused or failed, 2 usage.

The embedded database admits one process at a time: while \`gotrue serve\` (or any other gotrue command) has its
data folder open, these commands are refused (exit 1, nothing written) with the folder and that process's pid.
Stop the server first, or while it runs use its admin API (POST /admin/users with the service_role key from
\`gotrue keys\`). On Postgres they run beside a running server.`;
