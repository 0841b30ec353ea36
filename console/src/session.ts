/** Who is signed in: the key (kept in the tab's sessionStorage only) and its scopes. */
export interface SignedIn {
  apiKey: string;
  scopes: string[];
}
