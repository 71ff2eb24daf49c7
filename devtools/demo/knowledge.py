"""Demo knowledge-base articles (called by devtools.demo.seed_demo; deterministic from rng)."""

import random
from datetime import timedelta

from django.utils import timezone

from devtools.demo.knowledge_translations import TRANSLATIONS
from service.knowledge import has_cjk
from service.knowledge_models import forget_suggestions
from service.models import (
    ArticleCategory,
    ArticleTranslation,
    CategoryTranslation,
    KnowledgeArticle,
)

CATEGORIES = ["Account and login", "Billing and invoices", "Orders and delivery",
              "Products and setup", "Returns and warranty"]  # fmt: skip
# The categories' names in Chinese (zh-hans, zh-hant), in the order of CATEGORIES.
CATEGORY_TRANSLATIONS = [("账户与登录", "帳戶與登入"), ("账单与发票", "帳單與發票"),
                         ("订单与配送", "訂單與配送"), ("产品与设置", "產品與設定"),
                         ("退货与保修", "退貨與保固")]  # fmt: skip

# (category index, title, steps); the body is built from the steps.
ARTICLES = [
    (0, "Reset your password", ["Open the login page and choose “Forgot password”.",
        "Enter the email address of your account.", "Follow the link in the email within 24 hours."]),
    (0, "Change the email address of your account", ["Sign in and open *Profile*.",
        "Enter the new address and confirm it from the email we send."]),
    (0, "Turn on two-factor authentication", ["Open *Security* in your profile.",
        "Scan the QR code with an authenticator app.", "Enter the six-digit code to confirm."]),
    (0, "Your account is locked", ["After five failed logins the account locks for 15 minutes.",
        "Wait, then reset your password if you do not remember it."]),
    (0, "Add a colleague to your company account", ["Open *Team* and choose “Invite”.",
        "Your colleague receives an invitation email valid for 7 days."]),
    (0, "Close your account", ["Write to us from the address of the account.",
        "We confirm within two business days; invoices stay available for 10 years."]),
    (1, "Download a copy of an invoice", ["Open *Orders* and select the order.",
        "Choose “Download invoice” to get a PDF."]),
    (1, "Pay by bank transfer", ["Use the reference printed on the invoice.",
        "Transfers take one to three business days to arrive."]),
    (1, "Change the billing address on an invoice", ["Invoices can be corrected within 30 days.",
        "Send us the order number and the correct address."]),
    (1, "Why was my card declined?", ["Check the expiry date and the billing address.",
        "Some banks block online payments abroad: call your bank."]),
    (1, "VAT and tax exemption", ["Enter your VAT number in *Company details* before ordering.",
        "Tax is not refunded for orders placed before the number was added."]),
    (1, "Get a refund", ["Refunds go back to the original payment method.",
        "Card refunds take 5-10 business days after we receive the return."]),
    (2, "Track your delivery", ["The tracking link is in the shipping confirmation email.",
        "Tracking starts a few hours after the parcel leaves our warehouse."]),
    (2, "Delivery times and costs", ["Standard delivery takes 2-4 business days.",
        "Express delivery the next business day when ordered before 14:00."]),
    (2, "Change or cancel an order", ["Orders can be changed until they are packed.",
        "Open the order and choose “Cancel” or write to us quickly."]),
    (2, "A parcel arrived damaged", ["Take photos of the parcel and the product.",
        "Send a request with the order number within 7 days."]),
    (2, "Missing items in my order", ["Check whether the order shipped in several parcels.",
        "If an item is still missing, send us a request with the order number."]),
    (2, "Deliver to a different address", ["Addresses can be changed before shipping.",
        "After shipping, ask the carrier through the tracking page."]),
    (3, "Set up the router", ["Connect the router to the modem with the grey cable.",
        "Open http://192.168.1.1 and follow the wizard."]),
    (3, "Update the firmware", ["Open *Settings → Firmware*.", "Choose “Check for updates”.",
        "Do not unplug the device during the update."]),
    (3, "The printer does not print", ["Check the paper tray and the ink levels.",
        "Restart the printer and reinstall the driver."]),
    (3, "Connect to Wi-Fi", ["Choose the network name on the label.",
        "Enter the password printed under the device."]),
    (3, "Factory reset a device", ["Hold the reset button for 10 seconds.",
        "The device restarts with its factory settings."]),
    (3, "Compatible accessories", ["| Product | Accessory |\n|---|---|\n| Router | Antenna kit |\n"
        "| Printer | Ink XL |"]),
    (4, "Return a product", ["Returns are free within 30 days.",
        "Print the return label from the order page and drop the parcel at any post office."]),
    (4, "Warranty period", ["Every product has a two-year warranty.",
        "Keep the invoice: it is your proof of purchase."]),
    (4, "Repair a product under warranty", ["Send a request with the serial number.",
        "We send a prepaid label; repairs take about 10 days."]),
    (4, "Exchange for another size or colour", ["Return the product and place a new order.",
        "The refund follows when the return arrives."]),
    (0, "如何重置密码", ["在登录页面点击“忘记密码”。", "输入账户的电子邮件地址。", "在 24 小时内点击邮件中的链接。"]),
    (1, "如何下载发票", ["打开“订单”并选择订单。", "点击“下载发票”获取 PDF 文件。"]),
    (2, "查询物流信息", ["发货确认邮件中有物流跟踪链接。", "包裹离开仓库几个小时后即可查询。"]),
    (4, "退货和保修说明", ["30 天内免费退货。", "所有产品均享有两年保修。"]),
]  # fmt: skip


def _body(steps: list[str]) -> str:
    if len(steps) == 1:
        return steps[0]
    return "\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1))


def seed_articles(*, rng: random.Random, users: dict) -> int:
    """About 30 articles in five categories, mostly published, with views and votes."""
    categories = [
        ArticleCategory.objects.get_or_create(name=name, defaults={"order": order})[0]
        for order, name in enumerate(CATEGORIES)
    ]
    for translated, names in zip(categories, CATEGORY_TRANSLATIONS, strict=True):
        for language, name in zip(("zh-hans", "zh-hant"), names, strict=True):
            CategoryTranslation.objects.get_or_create(
                category=translated, language=language, defaults={"name": name}
            )
    existing = set(KnowledgeArticle.objects.values_list("title", flat=True))
    authors = [u for key, u in sorted(users.items()) if key in ("agent", "manager")] or [None]
    now = timezone.now()
    articles = []
    for category, title, steps in ARTICLES:
        if title in existing:
            continue
        views = rng.randint(0, 400)
        articles.append(
            KnowledgeArticle(
                title=title,
                body=_body(steps),
                language="zh-hans" if has_cjk(title) else "en",
                category=categories[category],
                is_published=rng.random() < 0.9,
                view_count=views,
                helpful_votes=rng.randint(0, views // 5 + 1),
                not_helpful_votes=rng.randint(0, views // 20 + 1),
                author=rng.choice(authors),
                created_at=now - timedelta(days=rng.randint(1, 300)),
            )
        )
    KnowledgeArticle.objects.bulk_create(articles)
    _seed_translations(articles)
    forget_suggestions()  # bulk_create sends no save signal
    return len(articles)


def _seed_translations(articles: list[KnowledgeArticle]) -> None:
    """Every demo article in the other two languages, published."""
    ArticleTranslation.objects.bulk_create(
        ArticleTranslation(
            article=article, language=language, title=title, body=_body(steps), is_published=True
        )
        for article in articles
        for language, (title, steps) in TRANSLATIONS.get(article.title, {}).items()
    )
