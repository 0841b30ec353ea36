import { defineConfig } from 'keygate/config';

/**
 * The invoices API, behind Keygate's keys. Keygate reads this file at `npm start` (with
 * `KEYGATE_CONFIG=examples/invoices/keygate.config.ts`) and at synth: the areas become rows of
 * the console's permission picker, each route gets Keygate's authorizer and one Lambda function
 * running the handler named here (relative to this file).
 */
export default defineConfig({
  areas: [
    {
      id: 'invoices',
      label: 'Invoices',
      scopes: ['invoices.read', 'invoices.create', 'invoices.delete'],
    },
    { id: 'documents', label: 'Documents', scopes: ['documents.read'] },
  ],
  routes: [
    {
      method: 'GET',
      path: '/v1/invoices',
      scopes: ['invoices.read'],
      handler: './handlers/list.ts',
      summary: "List the account's invoices",
    },
    {
      method: 'POST',
      path: '/v1/invoices',
      scopes: ['invoices.create'],
      handler: './handlers/create.ts',
      summary: 'Create an invoice',
    },
    {
      method: 'GET',
      path: '/v1/invoices/{invoice_id}',
      scopes: ['invoices.read'],
      handler: './handlers/get.ts',
      summary: 'Retrieve an invoice',
    },
    {
      method: 'GET',
      path: '/v1/invoices/{invoice_id}/pdf',
      scopes: ['invoices.read', 'documents.read'],
      handler: './handlers/pdf.ts',
      summary: 'Download an invoice as a PDF document',
    },
    {
      method: 'DELETE',
      path: '/v1/invoices/{invoice_id}',
      scopes: ['invoices.delete'],
      handler: './handlers/delete.ts',
      summary: 'Delete an invoice',
    },
  ],
});
