import { keygateCaller, type TeamHandler } from 'keygate/runtime';
import { json } from './http.js';
import { listInvoices } from './store.js';

/** GET /v1/invoices (invoices.read): the caller's account's invoices. */
export const handler: TeamHandler = async (event) => {
  const { accountId } = keygateCaller(event);
  return json(200, { result: listInvoices(accountId) });
};
