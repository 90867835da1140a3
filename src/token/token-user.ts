/** What a token sign-in puts on `request.user`: the user, marked as signed in with a token. */
export interface TokenUser {
  userid: string;
  username: string;
  usertype: string;
  roles: string[];
  via: 'token';
  /** The configuration whose token this is, and the token's id. */
  configuration: string;
  jti?: string;
}
