/// The registry the reconnect tests run against: a Jira Server (OAuth 1.0a RSA-SHA1, consumer key in
/// `JIRA_CONSUMER_KEY`, private key in `pem`) and a Jira Cloud (OAuth 2.0 at `oauth2`, client in
/// `JIRA_CLOUD_CLIENT_ID`/`_SECRET`) integration of one partner, which gets `integration.migrated` at `webhook`.
/// With `expectAccount`, the Jira Server verify call must answer for the installation's `username`.
func jiraRegistry(pem: String, oauth2: String, webhook: String? = nil, expectAccount: Bool = false) -> String {
    let endpoint = webhook.map { """

            webhook:
              url: \($0)
              secret: env:ATLASSIAN_WEBHOOK_SECRET
              events: [integration.migrated]
        """ } ?? ""
    return """
        version: 1
        partners:
          - id: atlassian
            name: Atlassian
            contacts: [{role: security, email: security@atlassian.example}]\(endpoint)
        integrations:
          - id: jira-server
            name: Jira Server
            partner: atlassian
            auth: password
            storage: plaintext
            config: [base_url, username]
            secrets: [password]
            migrate:
              to: oauth1
              oauth1:
                signature_method: RSA-SHA1
                request_token_url: "{base_url}/plugins/servlet/oauth/request-token"
                authorize_url: "{base_url}/plugins/servlet/oauth/authorize"
                access_token_url: "{base_url}/plugins/servlet/oauth/access-token"
                consumer_key: env:JIRA_CONSUMER_KEY
                private_key: file:\(pem)
              verify:
                method: GET
                url: "{base_url}/rest/api/2/myself"\(expectAccount ? "\n        expect_account: \"{username}\"" : "")
          - id: jira-cloud
            name: Jira Cloud
            partner: atlassian
            auth: password
            storage: plaintext
            config: [cloud_id]
            secrets: [password]
            migrate:
              to: oauth2
              oauth2:
                issuer: \(oauth2)
                authorization_url: \(oauth2)/authorize
                token_url: \(oauth2)/token
                revocation_url: \(oauth2)/revoke
                accessible_resources_url: \(oauth2)/oauth/token/accessible-resources
                scopes: [read:jira-user, offline_access]
                authorization_params: {audience: api.atlassian.com, prompt: consent}
                refresh_token_rotation: true
                client_id: env:JIRA_CLOUD_CLIENT_ID
                client_secret: env:JIRA_CLOUD_CLIENT_SECRET
              verify:
                method: GET
                url: \(oauth2)/ex/jira/{cloud_id}/rest/api/3/myself
        """
}
