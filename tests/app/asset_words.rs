//! Lists speak plainly: compliance in words with a colour, and an empty list that says whether
//! nothing matched or nothing was synced yet.

use crate::sync_helpers::*;

#[tokio::test]
async fn compliance_shows_in_words_and_a_search_without_matches_says_so() {
    let env = sync_env().await;
    let t = env.tenant("Contoso Dental", 4, 30, true);
    let (company, _) = env.connect("Contoso Dental", &t.id).await;
    env.app.login().await;
    let assets = env
        .app
        .get_text(&format!("/companies/{company}?tab=assets&per_page=100"))
        .await;
    for raw in [
        "compliant</span>",
        "noncompliant</span>",
        "inGracePeriod</span>",
        "configManager</span>",
    ] {
        assert!(
            !assets.contains(&format!(">{raw}")),
            "raw Intune value {raw} shown"
        );
    }
    assert!(
        assets.contains("class=\"badge ok\" title=\"Meets your organisation")
            && assets.contains(">Compliant</span>"),
        "compliant devices in words, green"
    );
    let none = env
        .app
        .get_text(&format!(
            "/companies/{company}?tab=assets&q=no-such-device-zz"
        ))
        .await;
    assert!(
        none.contains("No assets match “no-such-device-zz”."),
        "no match, not 'no assets yet'"
    );
    assert!(!none.contains("No assets yet"));
    let contacts = env
        .app
        .get_text(&format!(
            "/companies/{company}?tab=contacts&q=no-such-person-zz"
        ))
        .await;
    assert!(contacts.contains("No contacts match “no-such-person-zz”."));
}
