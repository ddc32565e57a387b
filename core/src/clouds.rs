//! Microsoft's clouds (global, US Government, DoD, China): the base URLs and resources of
//! each, read by OAuth ([`crate::oauth`]) and by the redirect check ([`crate::redirect`]).
//! Pure data.

use crate::model::M365Cloud;

/// Base URLs and resources of one Microsoft cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cloud {
    pub authority: &'static str,
    pub graph_url: &'static str,
    /// Graph's resource (scope prefix).
    pub graph_resource: &'static str,
    /// Exchange Online's resource for app-only SMTP (`…/.default`).
    pub exchange_app_resource: &'static str,
    /// Exchange Online's resource for the delegated `SMTP.Send` scope.
    pub exchange_delegated_resource: &'static str,
}

pub fn cloud(c: M365Cloud) -> Cloud {
    match c {
        M365Cloud::Global => Cloud {
            authority: "https://login.microsoftonline.com",
            graph_url: "https://graph.microsoft.com",
            graph_resource: "https://graph.microsoft.com",
            exchange_app_resource: "https://outlook.office365.com",
            exchange_delegated_resource: "https://outlook.office.com",
        },
        M365Cloud::UsGov => Cloud {
            authority: "https://login.microsoftonline.us",
            graph_url: "https://graph.microsoft.us",
            graph_resource: "https://graph.microsoft.us",
            exchange_app_resource: "https://outlook.office365.us",
            exchange_delegated_resource: "https://outlook.office365.us",
        },
        M365Cloud::UsGovDod => Cloud {
            authority: "https://login.microsoftonline.us",
            graph_url: "https://dod-graph.microsoft.us",
            graph_resource: "https://dod-graph.microsoft.us",
            exchange_app_resource: "https://outlook-dod.office365.us",
            exchange_delegated_resource: "https://outlook-dod.office365.us",
        },
        M365Cloud::China => Cloud {
            authority: "https://login.chinacloudapi.cn",
            graph_url: "https://microsoftgraph.chinacloudapi.cn",
            graph_resource: "https://microsoftgraph.chinacloudapi.cn",
            exchange_app_resource: "https://partner.outlook.cn",
            exchange_delegated_resource: "https://partner.outlook.cn",
        },
    }
}
