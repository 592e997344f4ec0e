// Starts GraphiQL. A file of its own (not inline) so that the page's Content-Security-Policy
// can allow scripts from csphub only.
(function () {
  const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher,
    defaultEditorToolsVisibility: 'headers',
    defaultHeaders: '{\n  "Authorization": "Bearer PASTE-A-TOKEN-HERE"\n}',
    shouldPersistHeaders: false,
  }));
})();
