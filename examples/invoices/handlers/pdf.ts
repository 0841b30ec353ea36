import { keygateCaller, type TeamHandler } from 'keygate/runtime';
import { json, notFound } from './http.js';
import { findInvoice } from './store.js';

/**
 * GET /v1/invoices/{invoice_id}/pdf (invoices.read and documents.read): the invoice as a PDF
 * document, base64 in JSON (a one-page placeholder: rendering real PDFs is beyond a demo).
 */
export const handler: TeamHandler = async (event) => {
  const { accountId } = keygateCaller(event);
  const invoice = findInvoice(accountId, event.pathParameters?.invoice_id ?? '');
  if (!invoice) return notFound();
  const amount = `${(invoice.amount_cents / 100).toFixed(2)} ${invoice.currency}`;
  const text = `Invoice ${invoice.id}: ${invoice.customer}, ${amount}`;
  const pdf = `%PDF-1.4\n% ${text}\n%%EOF\n`;
  return json(200, {
    invoice_id: invoice.id,
    filename: `${invoice.id}.pdf`,
    content_type: 'application/pdf',
    content_base64: Buffer.from(pdf).toString('base64'),
  });
};
