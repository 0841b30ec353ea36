import { keygateCaller, type TeamHandler } from 'keygate/runtime';
import { notFound } from './http.js';
import { removeInvoice } from './store.js';

/** DELETE /v1/invoices/{invoice_id} (invoices.delete): 204, or 404 when it is not the account's. */
export const handler: TeamHandler = async (event) => {
  const { accountId } = keygateCaller(event);
  if (!removeInvoice(accountId, event.pathParameters?.invoice_id ?? '')) return notFound();
  return { statusCode: 204, body: '' };
};
