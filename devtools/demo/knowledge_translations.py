"""Translations of the demo knowledge articles (called by devtools.demo.knowledge).

Keyed by the original's title: the English articles in Simplified and Traditional Chinese,
the Chinese ones in English and Traditional Chinese. The steps become the body as the
originals' do.
"""

# original title -> {language: (title, steps)}
TRANSLATIONS: dict[str, dict[str, tuple[str, list[str]]]] = {
    "Reset your password": {
        "zh-hans": ("重置密码", ["打开登录页面，点击“忘记密码”。", "输入您账户的电子邮件地址。",
                    "请在 24 小时内点击邮件中的链接。"]),
        "zh-hant": ("重設密碼", ["打開登入頁面，點擊「忘記密碼」。", "輸入您帳戶的電子郵件地址。",
                    "請在 24 小時內點擊郵件中的連結。"]),
    },
    "Change the email address of your account": {
        "zh-hans": ("更改账户的电子邮件地址", ["登录后打开*个人资料*。",
                    "输入新地址，并通过我们发送的邮件进行确认。"]),
        "zh-hant": ("更改帳戶的電子郵件地址", ["登入後打開*個人資料*。",
                    "輸入新地址，並透過我們發送的郵件進行確認。"]),
    },
    "Turn on two-factor authentication": {
        "zh-hans": ("开启双重身份验证", ["在个人资料中打开*安全*。", "用身份验证器应用扫描二维码。",
                    "输入六位数验证码完成确认。"]),
        "zh-hant": ("開啟雙重身分驗證", ["在個人資料中打開*安全*。", "用身分驗證器應用程式掃描 QR 碼。",
                    "輸入六位數驗證碼完成確認。"]),
    },
    "Your account is locked": {
        "zh-hans": ("账户被锁定", ["连续五次登录失败后，账户将锁定 15 分钟。",
                    "请稍候再试；如果忘记了密码，请重置密码。"]),
        "zh-hant": ("帳戶被鎖定", ["連續五次登入失敗後，帳戶將鎖定 15 分鐘。",
                    "請稍候再試；如果忘記了密碼，請重設密碼。"]),
    },
    "Add a colleague to your company account": {
        "zh-hans": ("将同事添加到公司账户", ["打开*团队*，点击“邀请”。",
                    "您的同事会收到一封邀请邮件，有效期为 7 天。"]),
        "zh-hant": ("將同事加入公司帳戶", ["打開*團隊*，點擊「邀請」。",
                    "您的同事會收到一封邀請郵件，有效期為 7 天。"]),
    },
    "Close your account": {
        "zh-hans": ("注销账户", ["请使用该账户的电子邮件地址写信给我们。",
                    "我们会在两个工作日内确认；发票仍可保留查阅 10 年。"]),
        "zh-hant": ("註銷帳戶", ["請使用該帳戶的電子郵件地址寫信給我們。",
                    "我們會在兩個工作天內確認；發票仍可保留查閱 10 年。"]),
    },
    "Download a copy of an invoice": {
        "zh-hans": ("下载发票副本", ["打开*订单*并选择相应订单。", "点击“下载发票”获取 PDF 文件。"]),
        "zh-hant": ("下載發票副本", ["打開*訂單*並選擇相應訂單。", "點擊「下載發票」取得 PDF 檔案。"]),
    },
    "Pay by bank transfer": {
        "zh-hans": ("通过银行转账付款", ["请使用发票上印的付款参考号。", "转账需要一到三个工作日到账。"]),
        "zh-hant": ("透過銀行轉帳付款", ["請使用發票上印的付款參考號。", "轉帳需要一到三個工作天入帳。"]),
    },
    "Change the billing address on an invoice": {
        "zh-hans": ("更改发票上的账单地址", ["发票可在 30 天内更正。", "请将订单号和正确的地址发送给我们。"]),
        "zh-hant": ("更改發票上的帳單地址", ["發票可在 30 天內更正。", "請將訂單編號和正確的地址寄給我們。"]),
    },
    "Why was my card declined?": {
        "zh-hans": ("为什么我的银行卡被拒绝？", ["请检查有效期和账单地址。",
                    "有些银行会拦截境外网上支付：请致电您的银行。"]),
        "zh-hant": ("為什麼我的信用卡被拒絕？", ["請檢查有效期限和帳單地址。",
                    "有些銀行會攔截境外網路付款：請致電您的銀行。"]),
    },
    "VAT and tax exemption": {
        "zh-hans": ("增值税与免税", ["下单前请在*公司信息*中填写您的增值税号。",
                    "添加税号之前下的订单不予退税。"]),
        "zh-hant": ("加值稅與免稅", ["下單前請在*公司資料*中填寫您的加值稅號。",
                    "加入稅號之前下的訂單不予退稅。"]),
    },
    "Get a refund": {
        "zh-hans": ("申请退款", ["退款将原路退回到您的付款方式。", "收到退货后，银行卡退款需要 5 到 10 个工作日。"]),
        "zh-hant": ("申請退款", ["退款將原路退回到您的付款方式。", "收到退貨後，信用卡退款需要 5 到 10 個工作天。"]),
    },
    "Track your delivery": {
        "zh-hans": ("查询物流", ["物流跟踪链接在发货确认邮件中。", "包裹离开仓库几个小时后即可开始跟踪。"]),
        "zh-hant": ("查詢物流", ["物流追蹤連結在出貨確認郵件中。", "包裹離開倉庫幾個小時後即可開始追蹤。"]),
    },
    "Delivery times and costs": {
        "zh-hans": ("配送时间和费用", ["标准配送需要 2 到 4 个工作日。", "14:00 前下单，快递可于下一个工作日送达。"]),
        "zh-hant": ("配送時間和費用", ["標準配送需要 2 到 4 個工作天。", "14:00 前下單，快遞可於下一個工作天送達。"]),
    },
    "Change or cancel an order": {
        "zh-hans": ("修改或取消订单", ["订单在打包之前都可以修改。", "打开订单点击“取消”，或尽快写信给我们。"]),
        "zh-hant": ("修改或取消訂單", ["訂單在包裝之前都可以修改。", "打開訂單點擊「取消」，或盡快寫信給我們。"]),
    },
    "A parcel arrived damaged": {
        "zh-hans": ("包裹到货时已损坏", ["请拍下包裹和产品的照片。", "请在 7 天内提交附有订单号的申请。"]),
        "zh-hant": ("包裹到貨時已損壞", ["請拍下包裹和產品的照片。", "請在 7 天內提交附有訂單編號的申請。"]),
    },
    "Missing items in my order": {
        "zh-hans": ("订单中缺少商品", ["请确认订单是否分成了几个包裹发货。", "如果商品仍然缺少，请提交附有订单号的申请。"]),
        "zh-hant": ("訂單中缺少商品", ["請確認訂單是否分成了幾個包裹出貨。", "如果商品仍然缺少，請提交附有訂單編號的申請。"]),
    },
    "Deliver to a different address": {
        "zh-hans": ("寄送到其他地址", ["发货前可以更改地址。", "发货后请通过物流跟踪页面联系承运商。"]),
        "zh-hant": ("寄送到其他地址", ["出貨前可以更改地址。", "出貨後請透過物流追蹤頁面聯絡貨運公司。"]),
    },
    "Set up the router": {
        "zh-hans": ("设置路由器", ["用灰色网线将路由器连接到调制解调器。", "打开 http://192.168.1.1，按照向导操作。"]),
        "zh-hant": ("設定路由器", ["用灰色網路線將路由器連接到數據機。", "打開 http://192.168.1.1，依照精靈操作。"]),
    },
    "Update the firmware": {
        "zh-hans": ("更新固件", ["打开*设置 → 固件*。", "点击“检查更新”。", "更新过程中请勿拔掉设备电源。"]),
        "zh-hant": ("更新韌體", ["打開*設定 → 韌體*。", "點擊「檢查更新」。", "更新過程中請勿拔掉裝置電源。"]),
    },
    "The printer does not print": {
        "zh-hans": ("打印机无法打印", ["检查纸盒和墨水余量。", "重启打印机并重新安装驱动程序。"]),
        "zh-hant": ("印表機無法列印", ["檢查紙匣和墨水存量。", "重新啟動印表機並重新安裝驅動程式。"]),
    },
    "Connect to Wi-Fi": {
        "zh-hans": ("连接 Wi-Fi", ["选择标签上印的网络名称。", "输入设备底部印的密码。"]),
        "zh-hant": ("連接 Wi-Fi", ["選擇標籤上印的網路名稱。", "輸入裝置底部印的密碼。"]),
    },
    "Factory reset a device": {
        "zh-hans": ("将设备恢复出厂设置", ["按住重置按钮 10 秒。", "设备会以出厂设置重新启动。"]),
        "zh-hant": ("將裝置恢復原廠設定", ["按住重設按鈕 10 秒。", "裝置會以原廠設定重新啟動。"]),
    },
    "Compatible accessories": {
        "zh-hans": ("兼容配件", ["| 产品 | 配件 |\n|---|---|\n| 路由器 | 天线套件 |\n| 打印机 | 大容量墨盒 |"]),
        "zh-hant": ("相容配件", ["| 產品 | 配件 |\n|---|---|\n| 路由器 | 天線套件 |\n| 印表機 | 大容量墨水匣 |"]),
    },
    "Return a product": {
        "zh-hans": ("退回产品", ["30 天内退货免费。", "在订单页面打印退货标签，然后将包裹交到任意邮局。"]),
        "zh-hant": ("退回產品", ["30 天內退貨免費。", "在訂單頁面列印退貨標籤，然後將包裹交到任一郵局。"]),
    },
    "Warranty period": {
        "zh-hans": ("保修期", ["所有产品均享有两年保修。", "请保留发票：它是您的购买凭证。"]),
        "zh-hant": ("保固期", ["所有產品均享有兩年保固。", "請保留發票：它是您的購買憑證。"]),
    },
    "Repair a product under warranty": {
        "zh-hans": ("保修期内维修产品", ["请提交附有序列号的申请。", "我们会寄给您预付运费的标签；维修约需 10 天。"]),
        "zh-hant": ("保固期內維修產品", ["請提交附有序號的申請。", "我們會寄給您預付運費的標籤；維修約需 10 天。"]),
    },
    "Exchange for another size or colour": {
        "zh-hans": ("更换尺码或颜色", ["请退回产品并重新下单。", "退货到达后即为您退款。"]),
        "zh-hant": ("更換尺寸或顏色", ["請退回產品並重新下單。", "退貨到達後即為您退款。"]),
    },
    "如何重置密码": {
        "en": ("How to reset your password", ["On the login page, click “Forgot password”.",
               "Enter the email address of your account.", "Click the link in the email within 24 hours."]),
        "zh-hant": ("如何重設密碼", ["在登入頁面點擊「忘記密碼」。", "輸入帳戶的電子郵件地址。",
                    "在 24 小時內點擊郵件中的連結。"]),
    },
    "如何下载发票": {
        "en": ("How to download an invoice", ["Open “Orders” and select the order.",
               "Click “Download invoice” to get a PDF file."]),
        "zh-hant": ("如何下載發票", ["打開「訂單」並選擇訂單。", "點擊「下載發票」取得 PDF 檔案。"]),
    },
    "查询物流信息": {
        "en": ("Tracking information", ["The shipping confirmation email has a tracking link.",
               "Tracking works a few hours after the parcel leaves the warehouse."]),
        "zh-hant": ("查詢物流資訊", ["出貨確認郵件中有物流追蹤連結。", "包裹離開倉庫幾個小時後即可查詢。"]),
    },
    "退货和保修说明": {
        "en": ("Returns and warranty", ["Returns are free within 30 days.",
               "Every product has a two-year warranty."]),
        "zh-hant": ("退貨和保固說明", ["30 天內免費退貨。", "所有產品均享有兩年保固。"]),
    },
}  # fmt: skip
