// A real OpenID provider (node-oidc-provider) for the single sign-on tests: discovery, JWKS,
// signed ID tokens, PKCE, state and nonce as Google or Entra would do them. Never deployed.
//
// Its development interactions ask for a login (type one of the account ids below; any
// password) and then for consent. The environment says where it listens and which client
// may use it:
//   OIDC_TEST_PORT            port on 127.0.0.1
//   OIDC_TEST_CLIENT_ID       the app's client id
//   OIDC_TEST_CLIENT_SECRET   its secret (client_secret_basic at the token endpoint)
//   OIDC_TEST_REDIRECT_URIS   the app's callback URLs, separated by spaces
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_TEST_PORT || 0);
const issuer = `http://127.0.0.1:${port}`;

// The test people. The email claims are what the app decides on: verified or not, absent (as
// Entra may leave email_verified out), and Google's hosted-domain claim.
const ACCOUNTS = {
  teacher: { email: 'amara.okafor@riverbend.example', email_verified: true, name: 'Amara Okafor', hd: 'riverbend.example' },
  shouting: { email: 'Amara.Okafor@RIVERBEND.example', email_verified: true, name: 'Amara Okafor' },
  admin: { email: 'helen.osei@riverbend.example', email_verified: true, name: 'Helen Osei', hd: 'riverbend.example' },
  unverified: { email: 'amara.okafor@riverbend.example', email_verified: false, name: 'Amara Okafor' },
  silent: { email: 'amara.okafor@riverbend.example', name: 'Amara Okafor' },
  stranger: { email: 'nobody@elsewhere.example', email_verified: true, name: 'No Body', hd: 'elsewhere.example' },
  noemail: { name: 'No Email' },
};

const configuration = {
  clients: [{
    client_id: process.env.OIDC_TEST_CLIENT_ID,
    client_secret: process.env.OIDC_TEST_CLIENT_SECRET,
    redirect_uris: (process.env.OIDC_TEST_REDIRECT_URIS || '').split(/\s+/).filter(Boolean),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  // PKCE for every client, confidential ones too (the default only insists for public ones).
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'hd'],
  },
  // Put the scopes' claims in the ID token, as Google and Entra do: the app reads them there.
  conformIdTokenClaims: false,
  cookies: { keys: ['test-only-cookie-key'] },
  async findAccount(ctx, id) {
    const claims = ACCOUNTS[id];
    if (!claims) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
};

const provider = new Provider(issuer, configuration);
const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
