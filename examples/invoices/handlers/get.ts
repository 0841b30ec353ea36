import { keygateCaller, type TeamHandler } from 'keygate/runtime';
import { json, notFound } from './http.js';
import { findInvoice } from './store.js';

/**
 * GET /v1/invoices/{invoice_id} (invoices.read). The link to the PDF is there only for a key
 * that may follow it (documents.read too): a handler may read the caller's scopes.
 */
export const handler: TeamHandler = async (event) => {
  const { accountId, scopes } = keygateCaller(event);
  const invoice = findInvoice(accountId, event.pathParameters?.invoice_id ?? '');
  if (!invoice) return notFound();
  return json(200, {
    ...invoice,
    ...(scopes.includes('documents.read') ? { pdf_url: `/v1/invoices/${invoice.id}/pdf` } : {}),
  });
};
